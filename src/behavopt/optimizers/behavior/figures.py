"""ABO's figures for each candidate in result.json: how the target followed its procedure on dev, where it failed,
and how often it gave the demonstration's own answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from behavopt.optimizers.behavior.demonstration import demo_answer_shares
from behavopt.optimizers.behavior.procedure import Procedure
from behavopt.optimizers.behavior.steps import adherence

if TYPE_CHECKING:  # only for annotations
    from behavopt.eval.evaluator import EvalRecord


@dataclass(frozen=True)
class BehaviorFigures:
    steps: tuple[str, ...]
    style: str  # how the demonstration reached the target: turns or system
    demonstration: bool
    adherence_rate: float  # share of dev outputs that wrote every step, in order, and an answer line
    step_adherence: tuple[float, ...]  # per step: share of dev outputs that wrote it
    failing_step_counts: dict[str, int] = field(default_factory=dict)  # step -> errors localised to it
    demo_answer: str | None = None
    demo_answer_share: float | None = None  # share of dev answers that are the demonstration's answer
    demo_answer_gold_share: float | None = None  # share of dev gold answers that are it


def behavior_figures(procedure: Procedure, *, style: str, demonstration: bool, dev_records: list["EvalRecord"],
                     failing_step_counts: dict[str, int]) -> BehaviorFigures:
    adh = [adherence(r.output, len(procedure.steps)) for r in dev_records if r.output is not None]
    n = max(1, len(adh))
    return BehaviorFigures(steps=procedure.steps, style=style, demonstration=demonstration,
                           adherence_rate=round(sum(a.followed for a in adh) / n, 4),
                           step_adherence=tuple(round(sum(a.present[i] for a in adh) / n, 4)
                                                for i in range(len(procedure.steps))),
                           failing_step_counts=failing_step_counts,
                           **demo_answer_shares(procedure.demo_answer, dev_records))
