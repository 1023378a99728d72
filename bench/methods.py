"""Every method on tasks with given models, budget and seeds, under one search setting.

Writes bench/results/<date>-methods.json and a markdown table beside it (initial and best test accuracy, LM calls,
tokens, seconds). Run directories go to bench/results/runs/ (not tracked); a finished run is reused, so an
interrupted benchmark resumes where it stopped.

    .venv/bin/python bench/methods.py --tasks demo:object-counting bbh:object_counting \
        --target local:qwen2.5-coder-0.5b --optimizer local:qwen2.5-coder-1.5b --preset quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import time
from pathlib import Path

from behavopt.optimizers.methods import method_names
from behavopt.optimizers.run import optimize

RESULTS = Path(__file__).parent / "results"


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def run_one(task: str, method: str, seed: int, args: argparse.Namespace) -> dict:
    out = RESULTS / "runs" / slug(f"{task}-{method}-s{seed}-{args.preset}")
    if (out / "result.json").is_file():
        return json.loads((out / "result.json").read_text())
    resume = (out / "config.json").is_file()  # a run stopped before its first checkpoint restarts in place
    if out.exists() and not resume:
        for f in sorted(out.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
    settings = {"seed": seed, **({"max_calls": args.max_calls} if args.max_calls else {})}
    start = time.time()
    result = optimize(task, method, args.target, args.optimizer, out=out, resume=resume, data_dir=args.data_dir,
                      preset=args.preset, **settings)
    print(f"  {task} {method} seed {seed}: {result.initial_test_score:.3f} -> {result.best_test_score:.3f} "
          f"({time.time() - start:.0f}s)", flush=True)
    return result.to_dict()


def row(r: dict) -> dict:
    u = r["usage"]
    calls = sum(u[k].get("calls", 0) for k in ("target", "optimizer"))
    cached = sum(u[k].get("cache_hits", 0) for k in ("target", "optimizer"))
    tokens = sum(u[k].get("prompt_tokens", 0) + u[k].get("completion_tokens", 0) for k in ("target", "optimizer"))
    return {"task": r["task"], "method": r["method"], "seed": r["seed"], "initial_test": r["initial_test_score"],
            "best_test": r["best_test_score"], "initial_dev": r["initial_dev_score"], "best_dev": r["best_dev_score"],
            "test_n": r["test_size"], "calls": calls, "cache_hits": cached,
            "optimizer_calls": u["optimizer"].get("calls", 0) + u["optimizer"].get("cache_hits", 0),
            "tokens": tokens, "wall_s": u["wall_s"], "stop_reason": r["stop_reason"], "best_prompt": r["best_prompt"]}


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [f"Target `{args.target}`, optimizer `{args.optimizer}`, preset `{args.preset}`"
             + (f", max {args.max_calls} LM calls" if args.max_calls else "") + ".", "",
             "| task | method | seed | initial test | best test | best dev | LM calls (+cached) | tokens | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['method']} | {r['seed']} | {r['initial_test']:.3f} | {r['best_test']:.3f} | "
                     f"{r['best_dev']:.3f} | {r['calls']} (+{r['cache_hits']}) | {r['tokens']} | {r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=["demo:object-counting", "bbh:object_counting"])
    ap.add_argument("--methods", nargs="+", default=list(method_names()))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--target", default="local:qwen2.5-coder-0.5b")
    ap.add_argument("--optimizer", default="local:qwen2.5-coder-1.5b")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--max-calls", type=int, default=None, help="the same LM-call budget for every method")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--name", default="methods", help="results file name: <date>-<name>.json/.md")
    args = ap.parse_args()
    rows = []
    for task in args.tasks:
        for method in args.methods:
            for seed in args.seeds:
                rows.append(row(run_one(task, method, seed, args)))
    stem = RESULTS / f"{dt.date.today().isoformat()}-{args.name}"
    summary = {"target": args.target, "optimizer": args.optimizer, "preset": args.preset,
               "max_calls": args.max_calls, "rows": rows}
    stem.with_name(stem.name + ".json").write_text(json.dumps(summary, indent=2) + "\n")
    table = markdown(rows, args)
    stem.with_name(stem.name + ".md").write_text(table)
    print(table)
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
