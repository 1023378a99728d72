"""`behavopt study EXPERIMENT`: the study's controlled experiments on your task and models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from behavopt.cli.common import err_console, open_cache, user_errors
from behavopt.errors import ConfigError
from behavopt.study.experiments import EXPERIMENTS
from behavopt.study.report import HELD


def study_command(
    experiment: str = typer.Argument(..., help=f"{', '.join(EXPERIMENTS)} or all"),
    task: str = typer.Option(..., "--task", "-t", help="task spec, as for optimize"),
    target: str = typer.Option(..., "--target", help="the model whose prompt is optimized"),
    optimizer: str = typer.Option(..., "--optimizer", help="the model that reflects and rewrites"),
    out: Path = typer.Option(..., "--out", help="study directory: results.json, summary.md, figures, runs/"),
    seeds: int = typer.Option(3, "--seeds", min=1, help="seeds 0..N-1; intervals need 2 or more"),
    preset: str = typer.Option("quick", "--preset", help="search preset of every run: quick or default"),
    judge: Optional[str] = typer.Option(None, "--judge", help="adherence judge model (default: the optimizer)"),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="override the preset's steps"),
    initial: Optional[int] = typer.Option(None, "--initial", min=1),
    beam: Optional[int] = typer.Option(None, "--beam", min=1),
    expand: Optional[int] = typer.Option(None, "--expand", min=1),
    errors: Optional[int] = typer.Option(None, "--errors", min=1),
    train_size: Optional[int] = typer.Option(None, "--train-size", min=1),
    dev_size: Optional[int] = typer.Option(None, "--dev-size", min=1),
    test_size: Optional[int] = typer.Option(None, "--test-size", min=1),
    train_batch: Optional[int] = typer.Option(None, "--train-batch", min=1),
    target_max_tokens: Optional[int] = typer.Option(None, "--target-max-tokens", min=1),
    optimizer_max_tokens: Optional[int] = typer.Option(None, "--optimizer-max-tokens", min=1),
    threshold: Optional[float] = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                              help="repetition: cosine threshold (default: the calibrated one)"),
    max_pairs: Optional[int] = typer.Option(None, "--max-pairs", min=1,
                                            help="refinement: at most this many refinements per run"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="benchmark data root (default $BEHAVOPT_DATA)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="do not read or write the LM response cache"),
    cache: Optional[Path] = typer.Option(None, "--cache", help="LM response cache file"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="llama.cpp threads"),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server for openai: models"),
    as_json: bool = typer.Option(False, "--json", help="print the findings as JSON on stdout"),
) -> None:
    """Run one of the study's experiments (or all) and report whether each finding holds here."""
    _study(**locals())


@user_errors
def _study(experiment: str, task: str, target: str, optimizer: str, out: Path, seeds: int, preset: str,
           judge: str | None, threshold: float | None, max_pairs: int | None, data_dir: Path | None,
           no_cache: bool, cache: Path | None, threads: int | None, base_url: str | None, as_json: bool,
           **overrides: int | None) -> None:
    from behavopt.optimizers.settings import preset as settings_preset
    from behavopt.study.experiments.run import run_all, run_experiment
    from behavopt.study.runner import StudyRunner, StudySpec

    if experiment not in (*EXPERIMENTS, "all"):
        raise ConfigError(f"unknown experiment '{experiment}': use one of {', '.join(EXPERIMENTS)} or all")
    settings = {k: v for k, v in overrides.items() if v is not None}
    settings_preset(preset).with_overrides(**settings)  # bad presets and values fail here, before any run
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file: pass a directory")
    spec = StudySpec(task=task, target=target, optimizer=optimizer, out=out, seeds=seeds, preset=preset, judge=judge,
                     data_dir=data_dir, settings=settings, threads=threads, base_url=base_url)
    runner = StudyRunner(spec, cache=open_cache(no_cache, cache),
                         on_notice=lambda m: err_console.print(f"[dim]{m}[/]", highlight=False))
    runner.task  # a bad task spec fails before anything runs
    options = dict(threshold=threshold, max_pairs=max_pairs)
    if experiment == "all":
        reports = run_all(runner, out, **options)
    else:
        reports = [run_experiment(experiment, runner, out, **options)]
    if as_json:
        print(json.dumps([{"experiment": r.experiment, "findings": [f.__dict__ for f in r.findings]} for r in reports],
                         indent=2, default=str))
        return
    for r in reports:
        for f in r.findings:
            print(f"{r.experiment} | {f.name}: {HELD[f.held]}\n  the study: {f.claim}\n  here: {f.ours}")
    print(f"written: {out / 'summary.md'}")
