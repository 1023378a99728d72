"""Runs side by side: their settings and scores in one table, their dev curves on one plot, and a paired exact test
between any two runs whose best prompts were scored on the same test examples."""

from __future__ import annotations

import itertools
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_text
from behavopt.eval.stats import PairedComparison, paired_comparison
from behavopt.optimizers.result import OptimizationResult
from behavopt.report import plots
from behavopt.report.html import render
from behavopt.report.run import REPORT_FILE
from behavopt.study.runview import RunView


@dataclass(frozen=True)
class ComparedRun:
    label: str
    path: Path
    result: OptimizationResult
    curve: list[float]
    test_scores: dict[str, float]  # the best prompt's score on each test example, by id


@dataclass(frozen=True)
class PairTest:
    first: str
    second: str
    n: int
    comparison: PairedComparison  # the second run's best against the first's


@dataclass(frozen=True)
class Comparison:
    runs: list[ComparedRun]
    pairs: list[PairTest]
    unpaired: list[tuple[str, str]]  # runs scored on different test examples: no paired test between them


def _labels(paths: list[Path]) -> list[str]:
    """Each run's folder name, or parent/name where two runs share a name."""
    names = Counter(p.name for p in paths)
    return [p.name if names[p.name] == 1 else f"{p.parent.name}/{p.name}" for p in paths]


def load_run(path: Path, label: str) -> ComparedRun:
    view = RunView.load(path)
    if view.result is None:
        raise ConfigError(f"{path} has not finished (no result.json): resume it with `behavopt optimize --resume`, "
                          "or leave it out of the comparison")
    scores = {r.id: float(r.score or 0.0) for r in view.records(view.result.best_candidate, "test") if not r.missing}
    return ComparedRun(label, view.path, view.result, view.dev_curve(), scores)


def compare_runs(paths: list[str | Path]) -> Comparison:
    if len(paths) < 2:
        raise ConfigError("compare needs two run directories or more: pass them one after the other")
    resolved = [Path(p) for p in paths]
    runs = [load_run(p, label) for p, label in zip(resolved, _labels(resolved))]
    pairs, unpaired = [], []
    for a, b in itertools.combinations(runs, 2):
        if a.test_scores and set(a.test_scores) == set(b.test_scores):
            ids = sorted(a.test_scores)
            test = paired_comparison([a.test_scores[i] for i in ids], [b.test_scores[i] for i in ids])
            pairs.append(PairTest(a.label, b.label, len(ids), test))
        else:
            unpaired.append((a.label, b.label))
    return Comparison(runs, pairs, unpaired)


def write_compare(comparison: Comparison, out: Path) -> Path:
    """compare.html at `out` (a file path), with links to each run's report relative to it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    svg = Markup(plots.curves({r.label: r.curve for r in comparison.runs}))
    links = {r.label: os.path.relpath(r.path / REPORT_FILE, out.parent) for r in comparison.runs
             if (r.path / REPORT_FILE).is_file()}
    atomic_write_text(out, render("compare.html.j2", comparison=comparison, curves_svg=svg, links=links))
    return out
