"""A sweep's record and its end: DIR/sweep.json (the sweep it holds, so a restart with another sweep is refused),
DIR/summary.json and summary.md (every run's outcome and figures, in the sweep's order) and DIR/compare.html (the
finished runs side by side)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_json, atomic_write_text
from behavopt.core.schema import SWEEP_VERSION, FileFormat, plain, read_json, typed
from behavopt.report.compare import compare_runs, write_compare
from behavopt.sweep.spec import SweepSpec
from behavopt.sweep.worker import RunOutcome

SWEEP_FORMAT = FileFormat("sweep", SWEEP_VERSION)
SUMMARY_FORMAT = FileFormat("sweep summary", SWEEP_VERSION)


@dataclass(frozen=True)
class SweepSummary:
    outcomes: list[RunOutcome]
    compare: str | None  # compare.html, where two runs or more finished

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]


def claim_directory(out: Path, spec: SweepSpec) -> None:
    """Write DIR/sweep.json, or check that the sweep it holds is this one (a restart)."""
    path = out / "sweep.json"
    if path.is_file():
        held = SWEEP_FORMAT.current(read_json(path, "restarting a sweep"), str(path))
        if held != plain(spec.to_dict()):
            raise ConfigError(f"{out} holds another sweep (sweep.json differs): pass another --out, or the same "
                              "sweep file to restart it")
        return
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, SWEEP_FORMAT.stamp(plain(spec.to_dict())))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summary_markdown(spec: SweepSpec, outcomes: list[RunOutcome]) -> str:
    runs = {r.name: r for r in spec.runs()}
    lines = ["| run | task | method | seed | target | status | initial test | best test | paired p | calls | "
             "seconds | where |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for o in outcomes:
        r, f = runs[o.name], o.result
        lines.append(f"| {o.name} | {r.task} | {r.method} | {r.seed} | {r.target} | {o.status} | "
                     f"{_cell(f.get('initial_test'))} | {_cell(f.get('best_test'))} | {_cell(f.get('p_value'))} | "
                     f"{_cell(f.get('calls'))} | {_cell(f.get('wall_s'))} | {o.host} |")
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        lines += ["", "Failed:"] + [f"- {o.name}: {o.error}" for o in failed]
    return "\n".join(lines) + "\n"


def write_summary(out: Path, spec: SweepSpec, outcomes: list[RunOutcome]) -> SweepSummary:
    order = {r.name: k for k, r in enumerate(spec.runs())}
    outcomes = sorted(outcomes, key=lambda o: order[o.name])
    atomic_write_json(out / "summary.json", SUMMARY_FORMAT.stamp({"outcomes": [asdict(o) for o in outcomes]}))
    atomic_write_text(out / "summary.md", summary_markdown(spec, outcomes))
    finished = [out / "runs" / o.name for o in outcomes if o.status != "failed"]
    compare = str(write_compare(compare_runs(finished), out / "compare.html")) if len(finished) >= 2 else None
    return SweepSummary(outcomes, compare)


def load_summary(out: Path) -> list[RunOutcome]:
    path = out / "summary.json"
    data = SUMMARY_FORMAT.current(read_json(path, "reading a sweep"), str(path))
    return [typed(RunOutcome, o, str(path)) for o in data.get("outcomes", [])]

