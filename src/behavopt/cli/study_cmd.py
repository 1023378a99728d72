"""`behavopt study EXPERIMENT`: the study's controlled experiments on your task and models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from behavopt.cli.common import err_console, user_errors
from behavopt.cli.options import Connection, OwnData, with_shared_options
from behavopt.core.errors import ConfigError
from behavopt.report.study import write_study_report
from behavopt.study.experiments import EXPERIMENTS
from behavopt.study.report import HELD


# A study runs every seed 0..N-1 and sets the controls itself, run by run.
@with_shared_options(own_data=True, exclude_groups=("controls",), exclude=("seed",))
def study_command(
    experiment: str = typer.Argument(..., help=f"{', '.join(EXPERIMENTS)} or all"),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="a built-in task spec, as for optimize (or your "
                                       "own data: --train with --prompt-file)"),
    target: str = typer.Option(..., "--target", help="the model whose prompt is optimized"),
    optimizer: str = typer.Option(..., "--optimizer", help="the model that reflects and rewrites"),
    out: Path = typer.Option(..., "--out", help="study directory: results.json, summary.md, figures, runs/"),
    seeds: int = typer.Option(3, "--seeds", min=1, help="seeds 0..N-1; intervals need 2 or more"),
    preset: str = typer.Option("quick", "--preset", help="search preset of every run: quick or default"),
    judge: Optional[str] = typer.Option(None, "--judge", help="adherence judge model (default: the optimizer)"),
    threshold: Optional[float] = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                              help="repetition: cosine threshold (default: the calibrated one)"),
    max_pairs: Optional[int] = typer.Option(None, "--max-pairs", min=1,
                                            help="refinement: at most this many refinements per run"),
    as_json: bool = typer.Option(False, "--json", help="print the findings as JSON on stdout"),
    connection: Connection = Connection(),
    own: OwnData = OwnData(),
    overrides: dict[str, Any] | None = None,
) -> None:
    """Run one of the study's experiments (or all) on a built-in task or your own, and report whether each finding
    holds here."""
    _study(**locals())


@user_errors
def _study(experiment: str, task: str | None, target: str, optimizer: str, out: Path, seeds: int, preset: str,
           judge: str | None, threshold: float | None, max_pairs: int | None, as_json: bool,
           connection: Connection, own: OwnData, overrides: dict[str, Any] | None) -> None:
    from behavopt.optimizers.api import user_task
    from behavopt.optimizers.settings import preset as settings_preset
    from behavopt.study.experiments.run import run_all, run_experiment
    from behavopt.study.runner import StudyRunner, StudySpec

    if experiment not in (*EXPERIMENTS, "all"):
        raise ConfigError(f"unknown experiment '{experiment}': use one of {', '.join(EXPERIMENTS)} or all")
    settings = dict(overrides or {})
    settings_preset(preset).with_overrides(**settings)  # bad presets and values fail here, before any run
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: pass a directory")
    if task is None and own.train is None:
        raise ConfigError("no task: pass --task SPEC for a built-in task, or --train FILE with --prompt-file for your "
                          "own")
    own_task, task, _ = user_task(**own.task_parts(), task=task, data_dir=connection.data_dir)
    spec = StudySpec(task=task, target=target, optimizer=optimizer, out=out, seeds=seeds, preset=preset, judge=judge,
                     data_dir=connection.data_dir, settings=settings, threads=connection.threads,
                     slots=connection.slots, retries=connection.retries, base_url=connection.base_url,
                     api_key=connection.api_key)
    runner = StudyRunner(spec, cache=connection.response_cache(), own_task=own_task,
                         on_notice=lambda m: err_console.print(f"[dim]{m}[/]", highlight=False))
    runner.task  # a bad task spec fails before anything runs
    options = dict(threshold=threshold, max_pairs=max_pairs)
    if experiment == "all":
        reports = run_all(runner, out, **options)
    else:
        reports = [run_experiment(experiment, runner, out, **options)]
    written = write_study_report(out)
    if as_json:
        print(json.dumps([{"experiment": r.experiment, "findings": [f.__dict__ for f in r.findings]} for r in reports],
                         indent=2, default=str))
        return
    for r in reports:
        for f in r.findings:
            print(f"{r.experiment} | {f.name}: {HELD[f.held]}\n  the study: {f.claim}\n  here: {f.ours}")
    print(f"written: {out / 'summary.md'}, {written}")
