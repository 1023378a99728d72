"""`behavopt sweep SWEEP.yaml --out DIR [--ray ADDRESS]`: many optimizations, each an ordinary run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from behavopt.cli.common import err_console, user_errors
from behavopt.cli.options import Connection, with_shared_options
from behavopt.core.errors import ConfigError
from behavopt.sweep.driver import run_sweep
from behavopt.sweep.executors import DEFAULT_THREADS, LocalExecutor, RayExecutor, free_cores
from behavopt.sweep.spec import load_sweep
from behavopt.sweep.worker import RunOutcome


@with_shared_options(settings=False)
def sweep_command(
    sweep_file: Path = typer.Argument(..., help="the sweep: tasks, methods, seeds, target, optimizer, settings"),
    out: Path = typer.Option(..., "--out", help="the sweep's directory: runs/NAME for each run, summary.md, "
                                                "compare.html"),
    ray: Optional[str] = typer.Option(None, "--ray", help="run on the Ray cluster at this address (host:port, or "
                                                          "auto); without it, worker processes on this machine"),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="without --ray: runs at once (default: "
                                          "one per free core's worth of --threads)"),
    connection: Connection = Connection(),
) -> None:
    """Run the cross product of a sweep file's tasks, methods, seeds and targets. A restart skips finished runs and
    resumes interrupted ones; the end is one summary table (summary.md) and one compare report (compare.html)."""
    run_sweep_command(sweep_file, out, ray, workers, connection)


@user_errors
def run_sweep_command(sweep_file: Path, out: Path, ray: str | None, workers: int | None,
                      connection: Connection) -> None:
    spec = load_sweep(sweep_file)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: pass a directory")
    options = connection.worker_options("sweep workers")
    threads = connection.threads or DEFAULT_THREADS
    executor = (RayExecutor(ray, on_notice=lambda m: err_console.print(f"[dim]{m}[/]", highlight=False)) if ray
                else LocalExecutor(workers or max(1, free_cores() // threads)))

    def heard(outcome: RunOutcome, done: int, total: int) -> None:
        figures = outcome.result
        shown = (f"best test {figures['best_test']:.3f} (initial {figures['initial_test']:.3f})" if figures
                 else outcome.error or "")
        err_console.print(f"[{done}/{total}] {outcome.name}: {outcome.status} {shown}", highlight=False)

    summary = run_sweep(spec, out.resolve(), executor, options, heard)
    print((out / "summary.md").read_text(), end="")
    print(f"written: {out / 'summary.md'}" + (f", {summary.compare}" if summary.compare else ""))
    if summary.failed:
        raise typer.Exit(1)
