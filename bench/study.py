"""`study all` on tasks with given models and seeds; one summary table over tasks.

Writes bench/results/<date>-study.md and .json (finding, the study's result, ours, held) and keeps every study
directory (figures, per-experiment summaries, runs) under bench/results/study/<task>/ (not tracked). A finished run
is reused, so an interrupted benchmark resumes where it stopped.

    .venv/bin/python bench/study.py --tasks bbh:navigate bbh:object_counting --seeds 3

Against llama.cpp's server with 4 parallel slots per model (`make llama-server`; on 2 cores about 1.2-1.6x the
in-process models' speed in bench/peers.py's runs, more with more cores; it does not reuse the in-process runs, since
the cache keys name the server):

    .venv/bin/behavopt serve local:qwen2.5-coder-0.5b --port 8080 --llama-server .build/llama-server --parallel 4 &
    .venv/bin/behavopt serve local:qwen2.5-coder-1.5b --port 8081 --llama-server .build/llama-server --parallel 4 &
    .venv/bin/python bench/study.py --seeds 3 --study-dir bench/results/study-served --name study-served \
        --target 'openai:qwen2.5-coder-0.5b?base_url=http://127.0.0.1:8080/v1&concurrency=4' \
        --optimizer 'openai:qwen2.5-coder-1.5b?base_url=http://127.0.0.1:8081/v1&concurrency=4'
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import harness

from behavopt.core.errors import ConfigError
from behavopt.core.paths import default_cache_path
from behavopt.lm.cache import ResponseCache
from behavopt.optimizers.settings import preset
from behavopt.study.answers import answer_spread_of
from behavopt.study.experiments.run import run_all
from behavopt.study.report import HELD
from behavopt.study.runner import StudyRunner, StudySpec


def markdown(rows: list[dict], args: argparse.Namespace, answers: dict[str, str] | None = None) -> str:
    """The findings of the tasks finished so far; `answers`: per task, how varied the target's test answers are
    under the runs' best prompts."""
    lines = [f"Target `{args.target}`, optimizer `{args.optimizer}` (also the judge), preset `{args.preset}`, "
             f"{args.seeds} seeds" + (f", at most {args.max_calls} LM calls per run" if args.max_calls else "")
             + (f", preset overrides {' '.join(args.overrides)}" if args.overrides else "")
             + (f", refinement on at most {args.max_pairs} pairs per run" if args.max_pairs else "")
             + "; 95 % t intervals over seeds.", "",
             "| task | experiment | finding | the study | here | held |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['task']} | {r['experiment']} | {r['finding']} | {r['study']} | {r['ours']} | {HELD[r['held']]} |"
              for r in rows]
    lines += ["", "The target's answers (a caveat where it gives nearly one answer whatever the input):", ""]
    lines += [f"- {task}: {text}." for task, text in (answers or {}).items()]
    return "\n".join(lines)


def write_table(rows: list[dict], args: argparse.Namespace, answers: dict[str, str] | None = None) -> str:
    """bench/results/<date>-<name>.json and .md with the findings of the tasks finished so far; returns the table."""
    table = markdown(rows, args, answers)
    harness.write_results(args.name, rows, table)
    return table


def parse_overrides(items: list[str], preset_name: str) -> dict[str, int]:
    """`KEY=INT` pairs as preset overrides, checked against the preset before anything runs."""
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise SystemExit(f"--set {item!r} is not KEY=INT: write e.g. --set dev_size=15")
        settings[key.strip()] = int(value)
    try:
        preset(preset_name).with_overrides(**settings)  # an unknown key fails here, before any run
    except ConfigError as e:
        raise SystemExit(f"--set: {e}") from None
    return settings


def study_task(task: str, args: argparse.Namespace, settings: dict[str, int]) -> tuple[list[dict], str]:
    """`study all` on one task: its findings as table rows, and the spread of the target's answers."""
    out = args.study_dir / harness.slug(task)
    spec = StudySpec(task=task, target=args.target, optimizer=args.optimizer, out=out, seeds=args.seeds,
                     preset=args.preset, data_dir=args.data_dir, settings=settings)
    start = time.time()
    reports = run_all(StudyRunner(spec, cache=ResponseCache(default_cache_path()),
                                  on_notice=lambda m: print("  " + m, flush=True)),
                      out, max_pairs=args.max_pairs)
    print(f"{task}: {time.time() - start:.0f}s", flush=True)
    rows = [{"task": task, "experiment": r.experiment, "finding": f.name, "study": f.claim, "ours": f.ours,
             "held": f.held} for r in reports for f in r.findings]
    return rows, answer_spread_of(run for r in reports for run in r.runs).text()


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, {"max_calls": "1200 matches bench/abo.py, whose APO and ABO runs can then be copied in as "
                                         "runs/apo-real-s0 and runs/abo-s0 and are reused"},
                       tasks=["bbh:navigate", "bbh:object_counting"], target="local:qwen2.5-coder-0.5b",
                       optimizer="local:qwen2.5-coder-1.5b", preset="quick", max_calls=None,
                       data_dir=Path("../shared/benchmarks"), name="study")
    ap.add_argument("--seeds", type=int, default=3, help="seeds per experiment")
    ap.add_argument("--max-pairs", type=int, default=None, help="refinement: at most this many pairs per run")
    ap.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=INT",
                    help="override the preset for every run, e.g. --set dev_size=15 test_size=30 (a smaller study "
                         "that fits one session on 2 cores; the table names the overrides)")
    ap.add_argument("--study-dir", type=Path, default=harness.RESULTS / "study",
                    help="where the study directories go, one per task (another one for other models)")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    settings = parse_overrides(args.overrides, args.preset) | ({"max_calls": args.max_calls} if args.max_calls else {})
    rows, answers = [], {}
    for task in args.tasks:
        task_rows, answers[task] = study_task(task, args, settings)
        rows += task_rows
        table = write_table(rows, args, answers)  # after every task: an interrupted benchmark keeps those it finished
    print(table)


if __name__ == "__main__":
    main()
