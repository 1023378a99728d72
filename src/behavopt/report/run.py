"""The run report: did it help, how much, at what cost, what changed, and can it be trusted, answered from a run
directory's typed files (config, checkpoint, events, records, result) and written as one self-contained HTML file,
RUN_DIR/report.html. A run that has not finished gets a report of what it has so far."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from behavopt.core.files import atomic_write_text
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.candidate import INITIAL_ID, Candidate
from behavopt.optimizers.engine.cost import Cost
from behavopt.optimizers.events import OptimizerCall, Picked, ReplyUnusable
from behavopt.optimizers.result import CandidateSummary, OptimizationResult
from behavopt.optimizers.settings import RunSettings
from behavopt.report import plots
from behavopt.report.caveats import caveats
from behavopt.report.diff import changed_share, word_diff
from behavopt.report.html import render
from behavopt.study.answers import run_answers
from behavopt.study.runview import RunView

REPORT_FILE = "report.html"
# How a test example fared: the initial prompt's answer against the best prompt's, in the order the table lists
# them (what changed first).
STATUSES = {"regressed": "right, then wrong", "fixed": "wrong, then right", "wrong": "wrong both times",
            "right": "right both times", "missing": "not answered"}


@dataclass(frozen=True)
class ExampleRow:
    id: str
    input: str
    gold: str
    initial_answer: str | None
    best_answer: str | None
    best_output: str | None
    status: str  # a key of STATUSES


@dataclass
class LineageNode:
    """A candidate in the tree of who came from whom, with what led to it: its parent's feedback and the text diff."""

    id: str
    step: int
    origin: str
    dev_score: float | None
    partial: bool  # scored on part of dev only (racing or minibatch)
    best: bool
    in_final_beam: bool
    prompt: str
    feedback: str | None
    diff: Markup | None  # the prompt against the parent's; None for a root
    changed: float | None  # the share of the parent's words that changed
    demos_changed: bool
    adherence: float | None  # ABO: the share of dev outputs that followed every step
    children: list[LineageNode] = field(default_factory=list)


@dataclass(frozen=True)
class CostRow:
    measure: str
    estimate: str
    ceiling: str
    spent: str


@dataclass(frozen=True)
class BehaviorView:
    """ABO's best procedure: its steps, how often the target wrote each on dev, and the errors localised to each.
    The best prompt's own where it is a procedure; else the best-by-dev procedure (the instruction won)."""

    candidate: str
    dev_score: float | None
    best_overall: bool
    steps: tuple[str, ...]
    adherence_rate: float
    adherence_svg: Markup
    failing_svg: Markup | None
    demo_answer: str | None
    demo_answer_share: float | None


@dataclass(frozen=True)
class RunReport:
    path: Path
    view: RunView
    result: OptimizationResult | None
    settings: list[tuple[str, Any, bool]]  # (flat name, value, changed from the default)
    caveats: list[str]
    cost: list[CostRow]
    dev_svg: Markup | None
    lineage: list[LineageNode]
    candidates: int
    examples: list[ExampleRow]
    behavior: BehaviorView | None
    replies: list[tuple[str, int, int]]  # per purpose: optimizer replies asked, and those the method could not use
    pick: Picked | None = None  # how the run chose the prompt it returns (runs before the event have none)

    @property
    def status_counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.examples) for s in STATUSES}


def settings_rows(settings: RunSettings) -> list[tuple[str, Any, bool]]:
    defaults = RunSettings().flat()
    return [(name, value, value != defaults[name]) for name, value in settings.flat().items()]


def _number(value: float, measure: str) -> str:
    return f"{value:,.4f}" if measure == "usd" else f"{value:,.0f}"


def cost_rows(result: OptimizationResult) -> list[CostRow]:
    """The estimate made before the run (likely, and if every call wrote to its limit) against what it spent."""
    spent = result.spent or Cost(calls=result.usage.target.calls + result.usage.optimizer.calls,
                                 seconds=result.usage.wall_s)
    rows = []
    for measure in ("calls", "tokens", "seconds", "usd"):
        if measure == "usd" and not spent.usd and not (result.estimate and result.estimate.usd):
            continue  # local models, no prices given
        rows.append(CostRow(measure, *(_number(c.of(measure), measure) if c else "-"  # type: ignore[arg-type]
                                       for c in (result.estimate, result.estimate_ceiling, spent))))
    return rows


def dev_figure(view: RunView) -> Markup | None:
    curve = view.dev_curve()
    if not curve or all(math.isnan(v) for v in curve):
        return None
    partial = set(view.state.early_stopped)
    points = [(c.step, view.state.dev_scores[c.id], c.id in partial) for c in view.candidates.values()
              if c.id in view.state.dev_scores]
    return Markup(plots.dev_per_step(curve, points))


def _summaries(result: OptimizationResult | None) -> dict[str, CandidateSummary]:
    return {c.id: c for s in result.steps for c in s.candidates} if result else {}


def lineage(view: RunView, result: OptimizationResult | None) -> list[LineageNode]:
    """The candidates as a tree (roots: those without a parent in the run), each child beside its parent's text."""
    summaries = _summaries(result)
    partial = set(view.state.early_stopped)
    best = result.best_candidate if result else None
    nodes: dict[str, LineageNode] = {}
    roots: list[LineageNode] = []
    for c in view.candidates.values():  # in the order made: a parent comes before its children
        parent: Candidate | None = view.candidates.get(c.parent) if c.parent else None
        figures = summaries[c.id].figures if c.id in summaries else None
        node = LineageNode(id=c.id, step=c.step, origin=c.origin, dev_score=view.state.dev_scores.get(c.id),
                           partial=c.id in partial, best=c.id == best, in_final_beam=c.id in view.state.beam,
                           prompt=c.prompt, feedback=c.feedback,
                           diff=word_diff(parent.prompt, c.prompt) if parent else None,
                           changed=changed_share(parent.prompt, c.prompt) if parent else None,
                           demos_changed=bool(parent) and parent.demos != c.demos,  # type: ignore[union-attr]
                           adherence=figures.adherence_rate if figures else None)
        nodes[c.id] = node
        (nodes[parent.id].children if parent and parent.id in nodes else roots).append(node)
    return roots


def _status(initial: EvalRecord | None, best: EvalRecord | None) -> str:
    if initial is None or best is None or initial.missing or best.missing:
        return "missing"
    if initial.correct == best.correct:
        return "right" if best.correct else "wrong"
    return "fixed" if best.correct else "regressed"


def example_rows(view: RunView, result: OptimizationResult) -> list[ExampleRow]:
    """Each test example with the initial and the best prompt's answers (the best prompt's records where it is the
    initial prompt itself)."""
    initial = {r.id: r for r in view.records(INITIAL_ID, "test")}
    best = {r.id: r for r in view.records(result.best_candidate, "test")}
    rows = []
    for example_id in dict.fromkeys([*initial, *best]):
        i, b = initial.get(example_id), best.get(example_id)
        shown = b or i
        assert shown is not None
        rows.append(ExampleRow(id=example_id, input=shown.input, gold=shown.target,
                               initial_answer=i.answer if i else None, best_answer=b.answer if b else None,
                               best_output=b.output if b else None, status=_status(i, b)))
    order = {s: k for k, s in enumerate(STATUSES)}
    return sorted(rows, key=lambda row: order[row.status])  # stable: within a status, the test split's order


def behavior_view(result: OptimizationResult) -> BehaviorView | None:
    with_steps = [c for c in _summaries(result).values() if c.figures and c.figures.steps and not c.early_stopped]
    if not with_steps:
        return None
    best = next((c for c in with_steps if c.id == result.best_candidate), None)
    best = best or max(with_steps, key=lambda c: c.dev_score if c.dev_score is not None else -1.0)  # first on ties
    figures = best.figures
    assert figures is not None
    labels = [f"{k}" for k in range(1, len(figures.steps) + 1)]
    counts = [figures.failing_step_counts.get(k, 0) for k in labels]
    failing = Markup(plots.bars(labels, counts, ylabel="errors localised", color="#d62728")) if any(counts) else None
    return BehaviorView(candidate=best.id, dev_score=best.dev_score, best_overall=best.id == result.best_candidate,
                        steps=figures.steps, adherence_rate=figures.adherence_rate,
                        adherence_svg=Markup(plots.bars(labels, figures.step_adherence, ylabel="dev outputs writing "
                                                        "the step", limit=1.0)),
                        failing_svg=failing, demo_answer=figures.demo_answer,
                        demo_answer_share=figures.demo_answer_share)


def reply_counts(view: RunView) -> list[tuple[str, int, int]]:
    """Per purpose, the optimizer calls made and the replies the method refused (its ReplyUnusable events)."""
    asked = Counter(e.purpose for e in view.events_of(OptimizerCall))
    refused = Counter(e.purpose for e in view.events_of(ReplyUnusable))
    return [(purpose, n, refused[purpose]) for purpose, n in sorted(asked.items())]


def build_run_report(path: str | Path) -> RunReport:
    view = RunView.load(path)
    result = view.result
    return RunReport(path=view.path, view=view, result=result, settings=settings_rows(view.settings),
                     caveats=caveats(result, run_answers(view)) if result else [],
                     cost=cost_rows(result) if result else [], dev_svg=dev_figure(view),
                     lineage=lineage(view, result), candidates=len(view.candidates),
                     examples=example_rows(view, result) if result else [],
                     behavior=behavior_view(result) if result else None, replies=reply_counts(view),
                     pick=next(iter(view.events_of(Picked)), None))


def write_run_report(path: str | Path) -> Path:
    """RUN_DIR/report.html, written whole (a temporary file, then a rename); returns its path."""
    report = build_run_report(path)
    out = report.path / REPORT_FILE
    atomic_write_text(out, render("run.html.j2", report=report, statuses=STATUSES))
    return out
