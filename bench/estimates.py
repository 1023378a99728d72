"""How well a run's cost is known before it: the estimate printed before the search against what the run used.

One run per method on the user's path (`behavopt.optimize` with in-memory examples and a Python metric with
feedback), the examples being the built-in demo:arithmetic's written as plain dicts, with no response cache so
every call is made. Prices are hypothetical (USD per million tokens, both models priced alike) so the USD estimate
has something to show. Prints estimate / actual for calls, tokens, seconds and USD per run.

Each finished run's row is written to bench/results/estimates/<row>.json as it finishes; a row already there is
skipped, so an interrupted bench resumes (commit the row files). The table goes to bench/results/<date>-<name>.md.

    .venv/bin/python bench/estimates.py --methods apo opro abo
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import harness

import behavopt
from behavopt.core.files import atomic_write_json
from behavopt.optimizers.result import OptimizationResult
from behavopt.tasks import load_task

ROWS = harness.RESULTS / "estimates"
MEASURES = ("calls", "tokens", "seconds", "usd")


def examples(n: int) -> list[dict[str, Any]]:
    """demo:arithmetic as a user would hold it: rows of question and answer."""
    task = load_task(f"demo:arithmetic:{n}")
    return [{"question": e.input, "answer": e.target} for e in task.examples]


def close_enough(example: behavopt.Example, output: str) -> behavopt.Score:
    """Full marks for the right number on the last 'Answer:' line; feedback names the expected number."""
    lines = [line for line in output.splitlines() if line.strip().lower().startswith("answer:")]
    said = lines[-1].split(":", 1)[1].strip().rstrip(".") if lines else None
    if said == example.target:
        return behavopt.Score(1.0)
    why = "no 'Answer:' line" if said is None else f"answered {said}"
    return behavopt.Score(0.0, f"{why}; the expected number is {example.target}")


def row_path(method: str, args: argparse.Namespace) -> Path:
    return ROWS / f"{harness.slug(f'{method}-{args.target}-{args.optimizer}-s{args.seed}')}.json"


def run_one(method: str, args: argparse.Namespace) -> dict[str, Any]:
    out = harness.RUNS / f"estimates-{row_path(method, args).stem}"
    prices = {args.target: args.price, args.optimizer: args.price}
    result: OptimizationResult = behavopt.optimize(
        "Solve the arithmetic problem. End with 'Answer: N'.", examples(args.examples), metric=close_enough,
        input_field="question", target=args.target, optimizer=args.optimizer, method=method, prices=prices,
        out=out, resume=(out / "config.json").is_file(), cache=False, preset="quick", seed=args.seed,
        steps=args.steps, train_size=args.train_size, dev_size=args.dev_size, test_size=args.test_size)
    assert result.estimate is not None and result.spent is not None and result.estimate_ceiling is not None
    return {"method": method, "target": args.target, "optimizer": args.optimizer, "seed": args.seed,
            "price_per_m": args.price, "estimate": vars(result.estimate), "actual": vars(result.spent),
            "ceiling": vars(result.estimate_ceiling) if result.estimate_ceiling else None,
            "ratio": {m: round(getattr(result.estimate, m) / getattr(result.spent, m), 3)
                      if getattr(result.spent, m) else None for m in MEASURES},
            "initial_test": result.initial_test_score, "best_test": result.best_test_score,
            "stop_reason": result.stop_reason, "run_dir": str(out)}


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["Estimate before the run / what it used (ratio); in brackets what the run would cost if every call "
             "wrote up to its token limit, printed beside the estimate. Own-data path, no cache, hypothetical "
             "prices.", "",
             "| method | target | optimizer | calls | tokens | seconds | USD |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r['estimate'][m]:.4g} / {r['actual'][m]:.4g} ({r['ratio'][m]})"
                 + (f" [{r['ceiling'][m]:.4g}]" if r.get("ceiling") and m != "calls" else "") for m in MEASURES]
        lines.append(f"| {r['method']} | {r['target']} | {r['optimizer']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, target="local:qwen2.5-coder-0.5b", optimizer="local:qwen2.5-coder-1.5b", seed=0,
                       name="estimates")
    ap.add_argument("--methods", nargs="+", default=["apo", "opro", "abo"])
    ap.add_argument("--price", default="0.15/0.6", help="IN/OUT USD per million tokens, for both models")
    ap.add_argument("--examples", type=int, default=80, help="rows of the user's data")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--train-size", type=int, default=20)
    ap.add_argument("--dev-size", type=int, default=15)
    ap.add_argument("--test-size", type=int, default=20)
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    rows = []
    for method in args.methods:
        path = row_path(method, args)
        if path.is_file():
            print(f"{method}: done before, {path}")
            rows.append(json.loads(path.read_text()))
            continue
        row = run_one(method, args)
        atomic_write_json(path, row)
        print(f"{method}: " + ", ".join(f"{m} {row['estimate'][m]:.4g} / {row['actual'][m]:.4g}" for m in MEASURES),
              flush=True)
        rows.append(row)
    print(markdown(rows))
    harness.write_results(args.name, rows, markdown(rows))


if __name__ == "__main__":
    main()
