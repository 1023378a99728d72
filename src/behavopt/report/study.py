"""The study report: each experiment's findings (the study's claim, what was measured here, whether it held), its
figures embedded, and its runs, each linked to its own run report; written as STUDY_DIR/report.html."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_text
from behavopt.optimizers.rundir import RunDir
from behavopt.report.html import render
from behavopt.report.run import REPORT_FILE, write_run_report
from behavopt.study.experiments.base import ExperimentReport
from behavopt.study.report import HELD, RESULTS_FILE, load_report


@dataclass(frozen=True)
class StudyRun:
    name: str
    report: str | None  # the run report's path relative to the study report; None where the run has not started


@dataclass(frozen=True)
class StudyExperiment:
    report: ExperimentReport
    figures: dict[str, str]  # figure file -> data URI (PNG), for the findings that drew one
    runs: list[StudyRun]


def experiment_dirs(study: Path) -> list[Path]:
    """Where a study's experiments wrote results.json: the study directory itself (one experiment) or one folder
    per experiment (`study all`)."""
    if (study / RESULTS_FILE).is_file():
        return [study]
    found = sorted(p.parent for p in study.glob(f"*/{RESULTS_FILE}"))
    if not found:
        raise ConfigError(f"{study} holds no study results ({RESULTS_FILE}): point at a directory `behavopt study` "
                          "wrote")
    return found


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _run_link(study: Path, run: str, written: dict[str, str | None]) -> str | None:
    """The run's report, written once per run, as a link relative to the study report (None: nothing to show)."""
    if run not in written:
        path = Path(run) if Path(run).is_absolute() else study / run
        written[run] = None
        if RunDir(path).checkpoint_path.is_file():
            written[run] = os.path.relpath(write_run_report(path), study)
    return written[run]


def write_study_report(study: str | Path) -> Path:
    """STUDY_DIR/report.html, and a report.html in each of its runs; returns the study report's path."""
    study = Path(study)
    written: dict[str, str | None] = {}
    experiments = []
    for folder in experiment_dirs(study):
        report = load_report(folder / RESULTS_FILE)
        figures = {f.figure: _data_uri(folder / f.figure) for f in report.findings
                   if f.figure and (folder / f.figure).is_file()}
        runs = [StudyRun(Path(r).name, _run_link(study, r, written)) for r in dict.fromkeys(report.runs)]
        experiments.append(StudyExperiment(report, figures, runs))
    out = study / REPORT_FILE
    atomic_write_text(out, render("study.html.j2", experiments=experiments, held=HELD, study=study))
    return out
