"""Every method on tasks with given models, budget and seeds, under one search setting.

Writes bench/results/<date>-methods.json and a markdown table beside it (initial and best test accuracy, LM calls,
tokens, seconds). Run directories go to bench/results/runs/ (not tracked); a finished run is reused, so an
interrupted benchmark resumes where it stopped.

    .venv/bin/python bench/methods.py --tasks demo:object-counting bbh:object_counting \
        --target local:qwen2.5-coder-0.5b --optimizer local:qwen2.5-coder-1.5b --preset quick
"""

from __future__ import annotations

import argparse
import time

import harness

from behavopt.optimizers.methods import method_names
from behavopt.optimizers.result import OptimizationResult


def run_one(task: str, method: str, seed: int, args: argparse.Namespace) -> OptimizationResult:
    out = harness.RUNS / harness.slug(f"{task}-{method}-s{seed}-{args.preset}")
    start = time.time()
    result, made = harness.reuse_or_optimize(out, task, method, args.target, args.optimizer, data_dir=args.data_dir,
                                             preset=args.preset, seed=seed, max_calls=args.max_calls)
    if made:
        print(f"  {task} {method} seed {seed}: {result.initial_test_score:.3f} -> {result.best_test_score:.3f} "
              f"({time.time() - start:.0f}s)", flush=True)
    return result


def row(r: OptimizationResult) -> dict:
    u = r.usage
    return {"task": r.task, "method": r.method, "seed": r.seed, "initial_test": r.initial_test_score,
            "best_test": r.best_test_score, "initial_dev": r.initial_dev_score, "best_dev": r.best_dev_score,
            "test_n": r.test_size, "calls": u.calls, "cache_hits": u.cache_hits,
            "optimizer_calls": u.optimizer.calls + u.optimizer.cache_hits,
            "tokens": u.tokens, "wall_s": u.wall_s, "stop_reason": r.stop_reason, "best_prompt": r.best_instruction}


def markdown(rows: list[dict], args: argparse.Namespace) -> str:
    lines = [f"Target `{args.target}`, optimizer `{args.optimizer}`, preset `{args.preset}`"
             + (f", max {args.max_calls} LM calls" if args.max_calls else "") + ".", "",
             "| task | method | seed | initial test | best test | best dev | LM calls (+cached) | tokens | seconds |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['method']} | {r['seed']} | {r['initial_test']:.3f} | {r['best_test']:.3f} | "
                     f"{r['best_dev']:.3f} | {r['calls']} (+{r['cache_hits']}) | {r['tokens']} | {r['wall_s']:.0f} |")
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, {"max_calls": "the same for every method; default: none"},
                       tasks=["demo:object-counting", "bbh:object_counting"], target="local:qwen2.5-coder-0.5b",
                       optimizer="local:qwen2.5-coder-1.5b", preset="quick", max_calls=None, data_dir=None,
                       name="methods")
    ap.add_argument("--methods", nargs="+", default=list(method_names()))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0], help="one run per seed")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    rows = [row(run_one(task, method, seed, args)) for task in args.tasks for method in args.methods
            for seed in args.seeds]
    summary = {"target": args.target, "optimizer": args.optimizer, "preset": args.preset,
               "max_calls": args.max_calls, "rows": rows}
    table = markdown(rows, args)
    stem = harness.write_results(args.name, summary, table)
    print(table)
    print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
