"""`behavopt report DIR` (a run's or a study's report.html) and `behavopt compare RUN_DIR...` (a table here and
compare.html)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from behavopt.cli.common import user_errors
from behavopt.core.errors import ConfigError
from behavopt.optimizers.rundir import RunDir
from behavopt.report.compare import compare_runs, write_compare
from behavopt.report.run import write_run_report
from behavopt.report.study import write_study_report



def write_report(directory: Path) -> Path:
    """The report of a run directory, or of a study directory (with each of its runs' reports)."""
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory: pass a run directory (`optimize --out`) or a study "
                          "directory (`study --out`)")
    if RunDir(directory).checkpoint_path.is_file():
        return write_run_report(directory)
    return write_study_report(directory)


@user_errors
def report_command(
    directory: Path = typer.Argument(..., help="a run directory (optimize --out) or a study directory (study --out)"),
    mlflow: Optional[str] = typer.Option(None, "--mlflow", help="also log the run to MLflow at this tracking URI "
                                         "(e.g. sqlite:///path/mlflow.db or http://host:5000)"),
    mlflow_experiment: str = typer.Option("behavopt", "--mlflow-experiment", help="the MLflow experiment to log to"),
) -> None:
    """Write DIR/report.html: a self-contained page (no network needed to view it) showing whether the optimization
    helped, at what cost, what changed, and what to be wary of."""
    out = write_report(directory)
    print(f"written: {out}")
    if mlflow:
        from behavopt.report.tracking import log_run

        print(f"logged to MLflow at {mlflow}: run {log_run(directory, mlflow, mlflow_experiment)}")


@user_errors
def compare_command(
    runs: list[Path] = typer.Argument(..., help="two run directories or more"),
    out: Path = typer.Option(Path("compare.html"), "--out", help="the HTML file to write"),
) -> None:
    """Set runs side by side: a table here, and an HTML page with their dev curves on one plot and a paired exact test
    between any two runs scored on the same test examples."""
    comparison = compare_runs(runs)
    table = Table(title=f"{len(comparison.runs)} runs")
    for column in ("run", "method", "task", "target", "seed", "initial test", "best test", "calls", "seconds"):
        table.add_column(column, justify="right" if column in ("seed", "initial test", "best test", "calls",
                                                                "seconds") else "left")
    for run in comparison.runs:
        r, u = run.result, run.result.usage
        table.add_row(run.label, r.method, r.task, r.target, str(r.seed), f"{r.initial_test_score:.3f}",
                      f"{r.best_test_score:.3f}", str(u.target.calls + u.optimizer.calls), f"{u.wall_s:.0f}")
    console = Console(width=160)
    console.print(table)
    for pair in comparison.pairs:
        print(f"{pair.second} against {pair.first} on the same {pair.n} test examples: {pair.comparison.describe()}")
    for a, b in comparison.unpaired:
        print(f"{a} and {b} were scored on different test examples: no paired test")
    print(f"written: {write_compare(comparison, out)}")
