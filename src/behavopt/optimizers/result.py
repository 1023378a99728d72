"""The result of an optimization run, exactly what result.json holds."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


# A best prompt whose target gives its demonstration's answer this much more often than that answer is right (share of
# dev answers minus share of dev gold) is named as possibly copying: 0.25 flags both cases measured on BBH (snarks
# +0.42, object_counting +0.26) and leaves the gaps a few dev examples make (1 of 15 is 0.07).
DEMO_COPY_EXCESS = 0.25


@dataclass
class CandidateSummary:
    id: str
    parent: str | None
    prompt: str
    dev_score: float | None
    feedback: str | None
    origin: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        extra = d.pop("extra")
        return {**d, **extra}


@dataclass
class StepSummary:
    step: int
    candidates: list[CandidateSummary]
    beam: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "candidates": [c.to_dict() for c in self.candidates], "beam": self.beam}


@dataclass
class OptimizationResult:
    method: str
    task: str
    target: str
    optimizer: str
    seed: int
    initial_prompt: str
    best_prompt: str
    best_candidate: str
    initial_dev_score: float
    best_dev_score: float
    initial_test_score: float
    best_test_score: float
    initial_test_ci95: tuple[float, float]
    best_test_ci95: tuple[float, float]
    test_size: int
    dev_size: int
    steps: list[StepSummary]
    usage: dict[str, Any]
    stop_reason: str
    run_dir: str
    settings: dict[str, Any]
    # {"initial"|"best": {"dev"|"test": accuracy of the prompt's answers shuffled across the examples}}: a gain that
    # this moves as much as the score comes from giving the commoner gold answer more often, not from solving more.
    answer_chance: dict[str, dict[str, float]] = field(default_factory=dict)

    def label_shifts(self) -> list[tuple[str, float, float]]:
        """(split, gain, chance gain) where the best prompt gained over the initial one but its answer frequencies
        alone gain as much: it moved the target toward the commoner gold answer rather than solving more."""
        if not self.answer_chance or self.best_candidate == "c0000":
            return []
        shifts = []
        for split, initial, best in (("dev", self.initial_dev_score, self.best_dev_score),
                                     ("test", self.initial_test_score, self.best_test_score)):
            gain = best - initial
            chance_gain = self.answer_chance["best"][split] - self.answer_chance["initial"][split]
            if gain > 0 and chance_gain >= gain:
                shifts.append((split, round(gain, 4), round(chance_gain, 4)))
        return shifts

    def demo_copying(self) -> tuple[str, float, float] | None:
        """(the demonstration's answer, its share of the best prompt's dev answers, its share of the dev gold answers)
        where the target gives it far more often than it is right: a small target copies the one worked example
        (Qwen-0.5B on BBH snarks gave the demonstration's (B) to 94 % of test inputs, 52 % gold; object_counting 11
        to 28 %, 2 % gold). None for prompts without a demonstration."""
        best = next((c for s in self.steps for c in s.candidates if c.id == self.best_candidate), None)
        extra = best.extra if best else {}
        share, gold = extra.get("demo_answer_share"), extra.get("demo_answer_gold_share")
        if share is None or gold is None or share - gold < DEMO_COPY_EXCESS:
            return None
        return extra["demo_answer"], share, gold

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["steps"] = [s.to_dict() for s in self.steps]
        d["initial_test_ci95"] = [round(x, 4) for x in self.initial_test_ci95]
        d["best_test_ci95"] = [round(x, 4) for x in self.best_test_ci95]
        return d
