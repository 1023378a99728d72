"""The study report: every experiment's findings, its figures embedded, and its runs linked to their own reports;
a directory that holds no study is refused in one line."""

from __future__ import annotations

import shutil

import pytest

from behavopt.core.errors import ConfigError
from behavopt.report.study import write_study_report
from behavopt.study.experiments.base import ExperimentReport, Finding
from behavopt.study.figures import bar_figure
from behavopt.study.report import write_report

SETUP = {"task": "items", "target": "t", "optimizer": "o", "preset": "quick", "seeds": [0], "settings": {"steps": 2}}


def experiment(name: str, runs: list[str], held: bool | None, figure: str | None) -> ExperimentReport:
    finding = Finding(f"{name} finding", "the study's claim", "what we measured <here>", held, figure, {})
    return ExperimentReport(experiment=name, setup=SETUP, findings=[finding], per_seed=[], runs=runs)


@pytest.mark.parametrize("layout", ["one experiment", "all"])
def test_findings_figures_and_linked_runs(finished_run, tmp_path, layout):
    study = tmp_path / "study"
    run = finished_run("apo", "made")
    shutil.move(run, study / "runs" / "apo-real-s0")
    reports = [("paraphrase", True, "steps.png"), ("refinement", None, None)]
    if layout == "one experiment":
        reports = reports[:1]
    for name, held, figure in reports:
        folder = study if layout == "one experiment" else study / name
        if figure:
            bar_figure(folder / figure, "a figure", "score", [("apo", 0.5, None, None)])
        write_report(experiment(name, [str(study / "runs" / "apo-real-s0"), "runs/never-started-s0"], held, figure),
                     folder)
    page = write_study_report(study).read_text()
    assert page.count('<tr><td>') == len(reports)  # one finding each, in the findings table
    assert "data:image/png;base64," in page and "what we measured &lt;here&gt;" in page
    assert '<a href="runs/apo-real-s0/report.html">apo-real-s0</a>' in page and "never-started-s0 (not started)" in page
    assert (study / "runs" / "apo-real-s0" / "report.html").is_file()


def test_a_directory_without_a_study_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="holds no study results"):
        write_study_report(tmp_path)
