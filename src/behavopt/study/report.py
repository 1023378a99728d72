"""An experiment's files: results.json (everything, JSON), summary.md (the findings in words and numbers) and the
PNG figures the experiment drew in the same directory; plus the one-table summary of `study all`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from behavopt.core.files import atomic_write_text
from behavopt.core.schema import STUDY_RESULTS_VERSION, FileFormat, read_json, typed
from behavopt.study.experiments.base import ExperimentReport

RESULTS_FILE = "results.json"
# Version 1 only adds schema_version: a version-0 file reads as it is.
RESULTS_FORMAT = FileFormat("study results", STUDY_RESULTS_VERSION, {0: lambda data: data})

HELD = {True: "held", False: "did not hold", None: "undetermined"}


def _finite(value: Any) -> Any:
    """JSON has no NaN: undefined numbers are written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _overrides(settings: dict[str, Any] | None) -> str:
    """The preset's overridden settings, named: a smaller study must not read as the preset's own."""
    if not settings:
        return ""
    return " with " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items()))


def summary_markdown(report: ExperimentReport) -> str:
    s = report.setup
    lines = [f"# Study: {report.experiment}", "",
             f"Task `{s['task']}`, target `{s['target']}`, optimizer `{s['optimizer']}`, preset `{s['preset']}`"
             + _overrides(s.get("settings")) + f", seeds {s['seeds']}. Intervals are 95 % Student-t intervals over seeds, clipped to the range "
             "of the quantity (0..1 for rates, -1..1 for differences); one seed gives no interval.", ""]
    if report.target_answers.get("text"):
        lines += [f"Target's answers: {report.target_answers['text']}.", ""]
    for f in report.findings:
        lines += [f"## {f.name}: {HELD[f.held]}", "", f"- The study: {f.claim}", f"- Here: {f.ours}"]
        if f.figure:
            lines.append(f"- Figure: [{f.figure}]({f.figure})")
        lines.append("")
    lines += ["Runs: " + ", ".join(f"`{r}`" for r in dict.fromkeys(report.runs)), ""]
    return "\n".join(lines)


def write_report(report: ExperimentReport, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = RESULTS_FORMAT.stamp(_finite(report.to_dict()))
    atomic_write_text(out / RESULTS_FILE, json.dumps(data, indent=2) + "\n")
    atomic_write_text(out / "summary.md", summary_markdown(report))


def load_report(path: Path) -> ExperimentReport:
    """An experiment's results.json, typed (an older file upgraded)."""
    source = str(path)
    return typed(ExperimentReport, RESULTS_FORMAT.current(read_json(path, "reading a study"), source), source)


def overview_markdown(reports: list[ExperimentReport], target_answers: str = "") -> str:
    lines = ["# Study summary", "", "| experiment | finding | the study | here | held |", "|---|---|---|---|---|"]
    for r in reports:
        for f in r.findings:
            lines.append(f"| {r.experiment} | {f.name} | {f.claim} | {f.ours} | {HELD[f.held]} |")
    if target_answers:
        lines += ["", f"Target's answers: {target_answers}."]
    return "\n".join(lines) + "\n"
