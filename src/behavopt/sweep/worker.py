"""One run of a sweep, as every executor runs it (a local worker process or a Ray task): reused where its run
directory holds a result, resumed where it holds a started run, made otherwise; its report written; a failure
recorded as the run's outcome, never raised, so one run cannot stop the sweep."""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behavopt.core.errors import BehavoptError
from behavopt.lm.errors import LMError
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.run import optimize_task
from behavopt.report.run import write_run_report
from behavopt.sweep.spec import SweepRun


@dataclass(frozen=True)
class WorkerOptions:
    """How every run of the sweep reaches its data and models (the same for all; never a secret: the API key comes
    from the worker's environment)."""

    data_dir: str | None = None
    cache: str | None = None  # the response cache file; None: no cache
    threads: int | None = None
    slots: int | None = None
    retries: int | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class RunOutcome:
    name: str
    status: str  # "made", "resumed", "reused" (finished before) or "failed"
    seconds: float
    host: str  # where it ran: host name and process id
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)  # a few figures of the result, for the summary


def _figures(run_dir: Path) -> dict[str, Any]:
    result = RunDir(run_dir).load_result()
    if result is None:
        return {}
    u = result.usage
    return {"initial_test": result.initial_test_score, "best_test": result.best_test_score,
            "best_dev": result.best_dev_score, "best_candidate": result.best_candidate,
            "p_value": result.test_comparison.p_value if result.test_comparison else None,
            "verdict": result.test_comparison.verdict if result.test_comparison else None,
            "calls": u.target.calls + u.optimizer.calls,
            "tokens": u.target.prompt_tokens + u.target.completion_tokens + u.optimizer.prompt_tokens
            + u.optimizer.completion_tokens, "wall_s": round(u.wall_s, 1)}


def run_one(run: SweepRun, out: str, options: WorkerOptions) -> RunOutcome:
    """Make, resume or reuse `run` in OUT/runs/NAME and return how it went."""
    run_dir = Path(out) / "runs" / run.name
    rundir = RunDir(run_dir)
    host = f"{socket.gethostname()}:{os.getpid()}"
    start = time.perf_counter()
    if rundir.result_path.is_file():
        return RunOutcome(run.name, "reused", 0.0, host, result=_figures(run_dir))
    resume = rundir.config_path.is_file()
    try:
        optimize_task(run.task, run.method, run.target, run.optimizer, out=run_dir, resume=resume,
                      data_dir=options.data_dir, preset=run.preset, cache=options.cache or False,
                      threads=options.threads, slots=options.slots, retries=options.retries,
                      base_url=options.base_url, **{**run.settings, "seed": run.seed})
        write_run_report(run_dir)
    except (BehavoptError, LMError, OSError) as err:  # EvalAborted (calls never answered) is a BehavoptError
        return RunOutcome(run.name, "failed", round(time.perf_counter() - start, 1), host,
                          error=f"{type(err).__name__}: {err}")
    except Exception as err:  # a bug: recorded with where it happened, the sweep goes on
        where = traceback.extract_tb(err.__traceback__)[-1]
        return RunOutcome(run.name, "failed", round(time.perf_counter() - start, 1), host,
                          error=f"{type(err).__name__}: {err} ({Path(where.filename).name}:{where.lineno})")
    return RunOutcome(run.name, "resumed" if resume else "made", round(time.perf_counter() - start, 1), host,
                      result=_figures(run_dir))
