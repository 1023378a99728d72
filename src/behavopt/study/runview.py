"""A finished (or stopped) optimization run read back from its run directory, with the views the study needs:
best-so-far dev per step, feedback items per lineage, refinements (parent -> child), the errors shown for them and
the train batch they were found on.

Only the run's typed files are read (RunConfig, SearchState, events, records, OptimizationResult); every decision
comes from them, none is recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from behavopt.core.errors import ConfigError
from behavopt.core.text import parse_list
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.events import E, ErrorsShown, Event, FailingStep, OptimizerCall, TrainBatch, of_kind
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import RunSettings
from behavopt.study.repetition import FeedbackItem

# Candidates made by reflecting on errors (the refinements whose outcome the study measures).
REFINED_ORIGINS = ("edit", "edit+paraphrase", "refine")


@dataclass
class RunView:
    path: Path
    config: RunConfig
    state: SearchState
    events: list[Event]
    result: OptimizationResult | None
    _records: dict[str, list[tuple[str, EvalRecord]]] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path) -> "RunView":
        rundir = RunDir(path)
        state = rundir.load_checkpoint()
        if state is None:
            raise ConfigError(f"{rundir.path} holds no optimization run (no checkpoint.json): run it first")
        return cls(path=rundir.path, config=rundir.load_config(), state=state, events=rundir.events(),
                   result=rundir.load_result())

    # ---- candidates and scores -----------------------------------------------------------------------------------
    @property
    def settings(self) -> RunSettings:
        return self.config.settings

    @property
    def candidates(self) -> dict[str, Candidate]:
        return self.state.candidates

    @property
    def dev_scores(self) -> dict[str, float]:
        """Scores over the whole dev split (candidates stopped early on a minibatch are left out)."""
        return self.state.fully_scored()

    @property
    def last_step(self) -> int:
        return self.state.step

    def best_up_to(self, step: int) -> Candidate | None:
        """The best-by-dev candidate made at or before `step` (ties: the older candidate)."""
        return self.state.best_up_to(step)

    def dev_curve(self) -> list[float]:
        """Best dev score so far after each step 0..last step."""
        return list(self.state.best_dev_curve())

    # ---- records -----------------------------------------------------------------------------------------------
    def records(self, candidate_id: str, split: str | None = None) -> list[EvalRecord]:
        if candidate_id not in self._records:
            self._records[candidate_id] = RunDir(self.path).load_records(candidate_id)
        return [r for s, r in self._records[candidate_id] if split is None or s == split]

    # ---- what the optimizer saw and wrote ------------------------------------------------------------------------
    def events_of(self, cls: type[E]) -> list[E]:
        return of_kind(self.events, cls)

    def shown_errors(self, parent: str, step: int) -> tuple[str, ...]:
        """Ids of the examples shown to the optimizer as errors of `parent` at `step` (real or pseudo)."""
        return next((e.example_ids for e in self.events_of(ErrorsShown) if e.parent == parent and e.step == step), ())

    def train_batch(self, step: int) -> tuple[str, ...]:
        """Ids of the train examples the parents of `step` were scored on to find their errors."""
        batch = next((e.example_ids for e in self.events_of(TrainBatch) if e.step == step), None)
        if batch is None:
            raise ConfigError(f"{self.path} records no train batch for step {step} (a run made before behavopt "
                              "logged train batches): run it again in a new directory")
        return batch

    def feedback_calls(self, purposes: tuple[str, ...] = ("feedback",)) -> list[OptimizerCall]:
        return [e for e in self.events_of(OptimizerCall) if e.purpose in purposes]

    def feedback_items(self, purposes: tuple[str, ...] = ("feedback",)) -> list[FeedbackItem]:
        """Each point of feedback the optimizer wrote, for the candidate it was written about, at its step."""
        items = []
        for call in self.feedback_calls(tuple(p for p in purposes if p != "localize")):
            for text in parse_list(call.output or ""):
                items.append(FeedbackItem(lineage_id=call.parent or "", step=call.step, text=text))
        if "localize" not in purposes:
            return items
        for note in self.events_of(FailingStep):  # ABO: the reason given for the failing step
            items.append(FeedbackItem(lineage_id=note.parent, step=note.step, text=note.reason))
        return items

    def parents(self) -> dict[str, str | None]:
        return {cid: c.parent for cid, c in self.candidates.items()}

    def refinements(self) -> list[tuple[Candidate, Candidate]]:
        """(parent, child) for every candidate made by reflecting on the parent's errors."""
        cands = self.candidates
        return [(cands[c.parent], c) for c in cands.values()
                if c.origin in REFINED_ORIGINS and c.parent in cands]
