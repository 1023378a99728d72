"""The search state: everything a checkpoint holds, typed, and its file format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from behavopt.core.schema import CHECKPOINT_VERSION, FileFormat, plain, typed
from behavopt.lm.types import UsageByRole
from behavopt.optimizers.candidate import (INITIAL_ID, Candidate, Proposal, candidate_id, candidate_v0_to_v1,
                                           ranked)


@dataclass
class StepRecord:
    """A finished step: the candidates it made and the beam after it."""

    step: int
    created: list[str]
    beam: list[str]


@dataclass
class SearchState:
    step: int = -1  # last finished step: -1 nothing yet, 0 the initial candidates are scored
    candidates: dict[str, Candidate] = field(default_factory=dict)
    dev_scores: dict[str, float] = field(default_factory=dict)
    beam: list[str] = field(default_factory=list)
    step_log: list[StepRecord] = field(default_factory=list)
    next_id: int = 0
    stop_reason: str | None = None
    usage_before: UsageByRole = field(default_factory=UsageByRole)  # usage of earlier sessions of this run
    wall_before: float = 0.0
    # Candidates scored on part of dev only, by a minibatch or racing (their dev score is the mean over that part):
    # out of every selection.
    early_stopped: list[str] = field(default_factory=list)
    method_notes: dict[str, Any] = field(default_factory=dict)  # the method's own notes (ABO's failing-step counts)
    strategy: dict[str, Any] = field(default_factory=dict)  # the strategy's own data (MCTS visit counts)

    def add(self, proposal: Proposal, step: int) -> Candidate | None:
        """Turn a proposal into a candidate with the next id; None when it shows the target nothing new."""
        candidate = Candidate(id=candidate_id(self.next_id), prompt=proposal.prompt.strip(), parent=proposal.parent,
                              step=step, origin=proposal.origin, feedback=proposal.feedback, demos=proposal.demos,
                              procedure=proposal.procedure, style=proposal.style)
        if any(c.fingerprint() == candidate.fingerprint() for c in self.candidates.values()):
            return None
        self.candidates[candidate.id] = candidate
        self.next_id += 1
        return candidate

    @property
    def initial(self) -> Candidate:
        """The task's own instruction."""
        return self.candidates[INITIAL_ID]

    def fully_scored(self) -> dict[str, float]:
        """Dev scores of candidates scored on all of dev (early-stopped ones hold the score of part of dev only)."""
        partial = set(self.early_stopped)
        return {cid: score for cid, score in self.dev_scores.items() if cid not in partial}

    def best_up_to(self, step: int) -> Candidate | None:
        """The best candidate made at or before `step`, among those scored on all of dev (ties: the earliest)."""
        scores = self.fully_scored()
        pool = [c.id for c in self.candidates.values() if c.step <= step and c.id in scores]
        return self.candidates[ranked(pool, scores)[0]] if pool else None

    def best_dev_curve(self) -> tuple[float, ...]:
        """The best full-dev score so far after each finished step 0..step (NaN while none is scored)."""
        scores = self.fully_scored()
        bests = (self.best_up_to(k) for k in range(self.step + 1))
        return tuple(scores[b.id] if b else float("nan") for b in bests)

    def best(self) -> Candidate:
        """Best candidate by dev score, among those scored on all of dev; ties go to the earliest."""
        return self.candidates[ranked(self.fully_scored(), self.dev_scores)[0]]

    def to_dict(self) -> dict[str, Any]:
        data = plain(self)
        data["candidates"] = list(data["candidates"].values())
        return CHECKPOINT_FORMAT.stamp(data)

    @staticmethod
    def from_dict(data: Any, source: str = "checkpoint.json") -> "SearchState":
        fields = CHECKPOINT_FORMAT.current(data, source)
        candidates = fields.get("candidates", [])
        if isinstance(candidates, list):
            fields["candidates"] = {c.get("id") if isinstance(c, dict) else None: c for c in candidates}
        return typed(SearchState, fields, source)


def _checkpoint_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 kept early-stopped ids and the method's notes inside the strategy's data, ABO's steps in a
    candidate's `meta`, and step log entries without a type."""
    strategy = dict(data.get("strategy") or {})
    data["early_stopped"] = strategy.pop("partial", [])
    data["method_notes"] = strategy.pop("method", {})
    data["strategy"] = strategy
    data["candidates"] = [candidate_v0_to_v1(c) for c in data.get("candidates", [])]
    return data


CHECKPOINT_FORMAT = FileFormat("checkpoint", CHECKPOINT_VERSION, {0: _checkpoint_v0_to_v1})
