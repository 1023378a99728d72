"""Run experiments by name: one directory per experiment (results.json, summary.md, figures), runs shared."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from behavopt.core.errors import ConfigError
from behavopt.study.answers import answer_spread_of
from behavopt.study.experiments import EXPERIMENTS
from behavopt.study.experiments.base import ExperimentReport
from behavopt.study.report import overview_markdown, write_report
from behavopt.study.runner import StudyRunner

# `all` runs refinement before repetition, so repetition can also measure the ABO run refinement made.
ALL_ORDER = ("pseudo-errors", "paraphrase", "refinement", "repetition")


def run_experiment(name: str, runner: StudyRunner, out: Path, *, threshold: float | None = None,
                   max_pairs: int | None = None, embed_loader: Callable | None = None) -> ExperimentReport:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment '{name}': use one of {', '.join(EXPERIMENTS)} or all")
    out.mkdir(parents=True, exist_ok=True)
    if name in ("pseudo-errors", "repetition"):
        from behavopt.study.embedding import load_minilm

        embed = (embed_loader or load_minilm)()
    if name == "pseudo-errors":
        from behavopt.study.experiments import pseudo_errors

        report = pseudo_errors.run(runner, out, embed)
    elif name == "repetition":
        from behavopt.study.experiments import repetition
        from behavopt.study.repetition import DEFAULT_THRESHOLD

        report = repetition.run(runner, out, embed, DEFAULT_THRESHOLD if threshold is None else threshold)
    elif name == "paraphrase":
        from behavopt.study.experiments import paraphrase

        report = paraphrase.run(runner, out)
    else:
        from behavopt.study.experiments import refinement

        report = refinement.run(runner, out, max_pairs=max_pairs)
    report.target_answers = answer_spread_of(report.runs).to_dict()
    write_report(report, out)
    return report


def run_all(runner: StudyRunner, out: Path, **options) -> list[ExperimentReport]:
    from behavopt.core.files import atomic_write_text

    reports = [run_experiment(name, runner, out / name, **options) for name in ALL_ORDER]
    spread = answer_spread_of(run for r in reports for run in r.runs)
    atomic_write_text(out / "summary.md", overview_markdown(reports, spread.text()))
    return reports
