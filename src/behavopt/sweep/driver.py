"""Running a sweep: claim its directory, hand the runs not finished yet to the executor, hear each outcome as it
comes, and end with the summary and the compare report. Runs finished before are reused without an executor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from behavopt.optimizers.rundir import RunDir
from behavopt.sweep.executors import Executor
from behavopt.sweep.spec import SweepSpec
from behavopt.sweep.summary import SweepSummary, claim_directory, write_summary
from behavopt.sweep.worker import RunOutcome, WorkerOptions, run_one


def run_sweep(spec: SweepSpec, out: Path, executor: Executor, options: WorkerOptions,
              on_outcome: Callable[[RunOutcome, int, int], None] = lambda outcome, done, total: None
              ) -> SweepSummary:
    claim_directory(out, spec)
    runs = spec.runs()
    outcomes: list[RunOutcome] = []
    todo = []
    for run in runs:
        if RunDir(out / "runs" / run.name).result_path.is_file():
            outcomes.append(run_one(run, str(out), options))  # reused: reads the result, runs nothing
            on_outcome(outcomes[-1], len(outcomes), len(runs))
        else:
            todo.append(run)
    if todo:
        for outcome in executor.run(todo, str(out), options):
            outcomes.append(outcome)
            on_outcome(outcome, len(outcomes), len(runs))
    return write_summary(out, spec, outcomes)
