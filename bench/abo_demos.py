"""How often ABO's optimizer writes a demonstration that passes its check, per lever (issue 21).

ABO drops every procedure whose demonstrations all fail their check, so the refusal rate caps how many candidates a
run can score (today's ABO on object_counting: 16 of 25 demonstrations refused, 5 candidates dropped). This bench
measures that rate alone, cheaply: ABO's initial step only (steps 0, one dev and one test example), so the cost is the
optimizer's procedure and demonstration calls. Arms, each on the same procedures (the response cache gives every arm
the same first replies, so arms differ only where the lever acts):
  today     a refused demonstration is asked again afresh, on another drawn example (abo_demo_tries 3)
  repair    a refused demonstration is sent back with its check's reason, to correct on the same example
  json      the optimizer replies in JSON held to a schema (constrained decoding)

Per row (task, arm, seed): procedures written, demonstrations asked and refused, the refusals by kind, and the
procedures kept (with a demonstration) and dropped. Rows are resumable: each is
bench/results/abo-demos/<task>-<arm>-s<seed>.json, skipped when there.

    .venv/bin/python bench/abo_demos.py --tasks bbh:object_counting --seeds 0 1 --procedures 8
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

import harness

from behavopt.core.files import atomic_write_json
from behavopt.optimizers.events import CandidateDropped, DemoRejected, OptimizerCall, ProcedureRejected, of_kind
from behavopt.optimizers.rundir import RunDir

ARMS: dict[str, dict[str, Any]] = {
    "today": {},
    "repair": {"abo_demo_repair": True},
    "json": {"abo_replies": "json"},
}
TASKS = ["bbh:object_counting", "bbh:navigate", "bbh:snarks", "bigbench:question_selection"]
ROW_DIR = harness.RESULTS / "abo-demos"
NO_DEMO = "no demonstration passed the check"
# A refusal's kind, by the words of the check's reason (behavopt.optimizers.behavior.demonstration).
KINDS = (("wrong answer", ("not the gold answer", "work out")), ("no Answer line", ("'Answer:'",)),
         ("step restated", ("restates",)), ("too long", ("tokens long",)))


def refusal_kind(reason: str) -> str:
    return next((kind for kind, words in KINDS if any(w in reason for w in words)), "steps not followed")


def row_name(task: str, arm: str, seed: int) -> str:
    return f"{harness.slug(task)}-{arm}-s{seed}"


def run_row(task_spec: str, arm: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    out = harness.RUNS / "abo-demos" / row_name(task_spec, arm, seed)
    start = time.perf_counter()
    harness.reuse_or_optimize(out, task_spec, "abo", args.target, args.optimizer, data_dir=args.data_dir,
                              preset=args.preset, threads=args.threads, seed=seed, steps=0,
                              initial=args.procedures + 1, dev_size=1, test_size=1, **ARMS[arm])
    events = RunDir(out).events()
    asked = sum(e.purpose == "demonstration" for e in of_kind(events, OptimizerCall))
    refused = of_kind(events, DemoRejected)
    dropped = Counter(e.reason == NO_DEMO for e in of_kind(events, CandidateDropped))
    kept = len(harness.RunFiles.read(out).state.candidates) - 1  # less the instruction
    return {"task": task_spec, "arm": arm, "seed": seed, "settings": ARMS[arm], "target": args.target,
            "optimizer": args.optimizer, "procedures": args.procedures,
            "procedures_refused": len(of_kind(events, ProcedureRejected)),
            "demos_asked": asked, "demos_refused": len(refused),
            "refusals": dict(Counter(refusal_kind(e.reason) for e in refused)),
            "kept": kept, "dropped_no_demo": dropped[True], "dropped_other": dropped[False],
            "wall_s": round(time.perf_counter() - start, 1)}


def table(rows: list[dict[str, Any]]) -> str:
    kinds = [k for k, _ in KINDS] + ["steps not followed"]
    lines = ["| task | arm | seed | procedures kept / written | demonstrations refused / asked | "
             + " | ".join(kinds) + " | seconds |", "|---|---|---|---|---|" + "---|" * len(kinds) + "---|"]
    for r in rows:
        lines.append(f"| {r['task']} | {r['arm']} | {r['seed']} | {r['kept']} / {r['procedures']} | "
                     f"{r['demos_refused']} / {r['demos_asked']} | "
                     + " | ".join(str(r["refusals"].get(k, 0)) for k in kinds) + f" | {r['wall_s']:.0f} |")
    totals: dict[str, Counter] = {}
    for r in rows:
        totals.setdefault(r["arm"], Counter()).update(
            {"kept": r["kept"], "written": r["procedures"], "refused": r["demos_refused"], "asked": r["demos_asked"]})
    lines += ["", "| arm | procedures kept / written | demonstrations refused / asked |", "|---|---|---|"]
    lines += [f"| {arm} | {t['kept']} / {t['written']} | {t['refused']} / {t['asked']} |" for arm, t in totals.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, {"target": "local model", "optimizer": "local model"}, tasks=TASKS[:1],
                       target="local:qwen2.5-coder-1.5b", optimizer="local:qwen2.5-coder-1.5b", preset="quick",
                       data_dir=None, threads=2)
    ap.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--procedures", type=int, default=8, help="procedures the optimizer writes per row")
    args = ap.parse_args(argv)
    ROW_DIR.mkdir(parents=True, exist_ok=True)
    for task_spec in args.tasks:
        for seed in args.seeds:
            for arm in args.arms:
                path = ROW_DIR / f"{row_name(task_spec, arm, seed)}.json"
                if path.is_file():
                    print(f"{path.stem}: done before, skipped", flush=True)
                    continue
                row = run_row(task_spec, arm, seed, args)
                atomic_write_json(path, {"meta": harness.run_meta(), "results": row})
                print(f"{path.stem}: kept {row['kept']}/{row['procedures']}, demonstrations refused "
                      f"{row['demos_refused']}/{row['demos_asked']}, {row['wall_s']:.0f} s", flush=True)
    order = {arm: i for i, arm in enumerate(ARMS)}
    harness.tabulate_rows("abo-demos", ROW_DIR, lambda r: (r["task"], r["seed"], order.get(r["arm"], 99)), table)


if __name__ == "__main__":
    main()
