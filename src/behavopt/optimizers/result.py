"""The result of an optimization run, exactly what result.json holds, typed, and its file format."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from behavopt.core.schema import RESULT_VERSION, FileFormat, plain, read_json, typed
from behavopt.lm.types import Message, UsageByRole
from behavopt.optimizers.behavior.figures import BehaviorFigures
from behavopt.eval.prompts import Prompt
from behavopt.eval.stats import PairedComparison
from behavopt.optimizers.candidate import INITIAL_ID, Candidate
from behavopt.optimizers.engine.cost import Cost
from behavopt.optimizers.settings import RunSettings, settings_from_v0

# A best prompt whose target gives its demonstration's answer this much more often than that answer is right (share of
# dev answers minus share of dev gold) is named as possibly copying; a few dev examples move the gap less than this.
DEMO_COPY_EXCESS = 0.25


@dataclass
class CandidateSummary:
    id: str
    parent: str | None
    prompt: str
    dev_score: float | None
    feedback: str | None
    origin: str
    demos: tuple[Message, ...] = ()
    early_stopped: bool = False  # scored on part of dev (minibatch or racing): dev_score is the mean over that part
    figures: BehaviorFigures | None = None  # the method's own figures (ABO: adherence, failing steps)


@dataclass
class StepSummary:
    step: int
    candidates: list[CandidateSummary]
    beam: list[str]


@dataclass
class SplitChance:
    dev: float
    test: float


@dataclass
class AnswerChance:
    """The accuracy of each prompt's answers shuffled across the examples: a gain that this moves as much as the
    score comes from giving the commoner gold answer more often, not from solving more."""

    initial: SplitChance
    best: SplitChance


@dataclass
class RunUsage(UsageByRole):
    """A run's LM usage by role (calls, tokens, cache hits, errors, seconds), and its wall time."""

    wall_s: float = 0.0

    @property
    def cache_hits(self) -> int:
        return self.target.cache_hits + self.optimizer.cache_hits


@dataclass
class OptimizationResult:
    method: str
    task: str
    target: str
    optimizer: str
    seed: int
    # The initial and the best prompt as prompt files hold them (messages, the settings they were scored under, and
    # where they came from): `result.best_prompt.messages(text)` is ready to send, `.save(path)` ships it.
    initial_prompt: Prompt
    best_prompt: Prompt
    # The instruction text each candidate carries (what the methods rewrote): the prompt without demonstrations.
    initial_instruction: str
    best_instruction: str
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
    usage: RunUsage
    stop_reason: str
    run_dir: str
    settings: RunSettings
    answer_chance: AnswerChance | None = None
    # What the run was estimated to cost before it started (likely, and if every call wrote up to its token limit),
    # and what it used (calls and tokens without cache hits).
    estimate: Cost | None = None
    estimate_ceiling: Cost | None = None
    spent: Cost | None = None
    # The best prompt against the initial one on the same test examples: the paired exact test and its verdict.
    test_comparison: PairedComparison | None = None

    def candidate(self, candidate_id: str) -> CandidateSummary | None:
        return next((c for s in self.steps for c in s.candidates if c.id == candidate_id), None)

    def label_shifts(self) -> list[tuple[str, float, float]]:
        """(split, gain, chance gain) where the best prompt gained over the initial one but its answer frequencies
        alone gain as much: it moved the target toward the commoner gold answer rather than solving more."""
        chance = self.answer_chance
        if chance is None or self.best_candidate == INITIAL_ID:
            return []
        shifts = []
        for split, initial, best in (("dev", self.initial_dev_score, self.best_dev_score),
                                     ("test", self.initial_test_score, self.best_test_score)):
            gain = best - initial
            chance_gain = getattr(chance.best, split) - getattr(chance.initial, split)
            if gain > 0 and chance_gain >= gain:
                shifts.append((split, round(gain, 4), round(chance_gain, 4)))
        return shifts

    def demo_copying(self) -> tuple[str, float, float] | None:
        """(the demonstration's answer, its share of the best prompt's dev answers, its share of the dev gold answers)
        where the target gives it far more often than it is right: a small target may copy the one worked example.
        None for prompts without a demonstration."""
        best = self.candidate(self.best_candidate)
        figures = best.figures if best else None
        if figures is None or figures.demo_answer is None:
            return None
        share, gold = figures.demo_answer_share, figures.demo_answer_gold_share
        if share is None or gold is None or share - gold < DEMO_COPY_EXCESS:
            return None
        return figures.demo_answer, share, gold

    def to_dict(self) -> dict[str, Any]:
        data = plain(self)
        data["initial_test_ci95"] = [round(x, 4) for x in self.initial_test_ci95]
        data["best_test_ci95"] = [round(x, 4) for x in self.best_test_ci95]
        return RESULT_FORMAT.stamp(data)

    @staticmethod
    def from_dict(data: Any, source: str = "result.json") -> "OptimizationResult":
        return typed(OptimizationResult, RESULT_FORMAT.current(data, source), source)

    @staticmethod
    def load(path: Path) -> "OptimizationResult":
        return OptimizationResult.from_dict(read_json(path, "reading a run's result"), str(path))


_FIGURE_KEYS = ("steps", "style", "demonstration", "adherence_rate", "step_adherence", "failing_step_counts",
                "demo_answer", "demo_answer_share", "demo_answer_gold_share")


def _candidate_v0_to_v1(c: dict[str, Any]) -> dict[str, Any]:
    """Version 0 wrote a method's figures flat beside the candidate's own fields."""
    c = dict(c)
    figures = {k: c.pop(k) for k in _FIGURE_KEYS if k in c}
    if "steps" in figures:
        c["figures"] = figures
    return c


def _result_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 kept the settings flat, a method's figures flat in each candidate, and an empty answer_chance
    where none was computed."""
    data["settings"] = settings_from_v0(data.get("settings") or {}, data.get("method", ""))
    data["steps"] = [{**s, "candidates": [_candidate_v0_to_v1(c) for c in s.get("candidates", [])]}
                     for s in data.get("steps", [])]
    data["answer_chance"] = data.get("answer_chance") or None
    return data


def _prompt_v1(data: dict[str, Any], candidate_id: str, text: str) -> dict[str, Any]:
    """A version-1 candidate's prompt rebuilt as the target saw it: its instruction, demonstrations and style (the
    style is in ABO's figures; every other candidate was a plain instruction)."""
    summary = next((c for s in data.get("steps", []) for c in s.get("candidates", []) if c.get("id") == candidate_id),
                   {})
    style = (summary.get("figures") or {}).get("style") or "instruction"
    demos = tuple(Message(m["role"], m["content"]) for m in summary.get("demos") or ())
    candidate = Candidate(id=candidate_id, prompt=text, parent=None, step=0, origin="", demos=demos, style=style)
    return plain(candidate.as_prompt())


def _result_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 1 held the initial and best prompts as their instruction text only."""
    data["initial_instruction"], data["best_instruction"] = data["initial_prompt"], data["best_prompt"]
    data["initial_prompt"] = _prompt_v1(data, INITIAL_ID, data["initial_prompt"])
    data["best_prompt"] = _prompt_v1(data, data["best_candidate"], data["best_prompt"])
    return data


RESULT_FORMAT = FileFormat("result", RESULT_VERSION, {0: _result_v0_to_v1, 1: _result_v1_to_v2})
