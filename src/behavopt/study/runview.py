"""A finished (or stopped) optimization run read back from its run directory, with the views the study needs:
best-so-far dev per step, feedback items per lineage, refinements (parent -> child) and the errors shown for them.

Only files are read (config.json, checkpoint.json, events.jsonl, records/, result.json); nothing is recomputed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behavopt.errors import ConfigError
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.methods.common import parse_list
from behavopt.study.repetition import FeedbackItem

# Candidates made by reflecting on errors (the refinements whose outcome the study measures).
REFINED_ORIGINS = ("edit", "edit+paraphrase", "refine")


@dataclass
class RunView:
    path: Path
    config: dict[str, Any]
    checkpoint: dict[str, Any]
    events: list[dict[str, Any]]
    result: dict[str, Any] | None
    _records: dict[str, list[EvalRecord]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> "RunView":
        path = Path(path)
        if not (path / "checkpoint.json").is_file():
            raise ConfigError(f"{path} holds no optimization run (no checkpoint.json): run it first")
        events = [json.loads(line) for line in (path / "events.jsonl").read_text().splitlines() if line.strip()]
        result_path = path / "result.json"
        return cls(path=path, config=json.loads((path / "config.json").read_text()),
                   checkpoint=json.loads((path / "checkpoint.json").read_text()), events=events,
                   result=json.loads(result_path.read_text()) if result_path.is_file() else None)

    # ---- candidates and scores -----------------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        return self.config["settings"]

    @property
    def candidates(self) -> dict[str, Candidate]:
        return {c["id"]: Candidate.from_dict(c) for c in self.checkpoint["candidates"]}

    @property
    def dev_scores(self) -> dict[str, float]:
        """Scores over the whole dev split (candidates stopped early on a minibatch are left out)."""
        partial = set(self.checkpoint.get("strategy", {}).get("partial", []))
        return {k: v for k, v in self.checkpoint["dev_scores"].items() if k not in partial}

    @property
    def last_step(self) -> int:
        return int(self.checkpoint["step"])

    def best_up_to(self, step: int) -> Candidate | None:
        """The best-by-dev candidate made at or before `step` (ties: the older candidate)."""
        scores = self.dev_scores
        pool = [c for c in self.candidates.values() if c.step <= step and c.id in scores]
        return max(pool, key=lambda c: (scores[c.id], -int(c.id[1:]))) if pool else None

    def dev_curve(self) -> list[float]:
        """Best dev score so far after each step 0..last step."""
        out = []
        for step in range(self.last_step + 1):
            best = self.best_up_to(step)
            out.append(self.dev_scores[best.id] if best else float("nan"))
        return out

    # ---- records -----------------------------------------------------------------------------------------------
    def records(self, candidate_id: str, split: str | None = None) -> list[EvalRecord]:
        if candidate_id not in self._records:
            path = self.path / "records" / f"{candidate_id}.jsonl"
            rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] \
                if path.is_file() else []
            self._records[candidate_id] = rows  # type: ignore[assignment]
        rows = self._records[candidate_id]
        return [EvalRecord(**{k: v for k, v in r.items() if k != "split"})  # type: ignore[union-attr]
                for r in rows if split is None or r.get("split") == split]  # type: ignore[union-attr]

    # ---- what the optimizer saw and wrote ------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    def shown_errors(self, parent: str, step: int) -> list[str]:
        """Ids of the examples shown to the optimizer as errors of `parent` at `step` (real or pseudo)."""
        return next((e["example_ids"] for e in self.of_kind("errors_shown")
                     if e.get("parent") == parent and e.get("step") == step), [])

    def feedback_calls(self, purposes: tuple[str, ...] = ("feedback",)) -> list[dict[str, Any]]:
        return [e for e in self.of_kind("optimizer_call") if e.get("purpose") in purposes]

    def feedback_items(self, purposes: tuple[str, ...] = ("feedback",)) -> list[FeedbackItem]:
        """Each point of feedback the optimizer wrote, for the candidate it was written about, at its step."""
        items = []
        for call in self.feedback_calls(tuple(p for p in purposes if p != "localize")):
            for text in parse_list(call.get("output") or ""):
                items.append(FeedbackItem(lineage_id=call["parent"], step=int(call["step"]), text=text))
        if not any(p == "localize" for p in purposes):
            return items
        for note in self.of_kind("failing_step"):  # ABO: the reason given for the failing step
            items.append(FeedbackItem(lineage_id=note["parent"], step=int(note["step"]), text=note["reason"]))
        return items

    def parents(self) -> dict[str, str | None]:
        return {cid: c.parent for cid, c in self.candidates.items()}

    def refinements(self) -> list[tuple[Candidate, Candidate]]:
        """(parent, child) for every candidate made by reflecting on the parent's errors."""
        cands = self.candidates
        return [(cands[c.parent], c) for c in cands.values()
                if c.origin in REFINED_ORIGINS and c.parent in cands]
