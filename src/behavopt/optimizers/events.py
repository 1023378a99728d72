"""The one vocabulary of events a run writes to events.jsonl, one line each: `{"t": time, "type": kind, ...fields}`.

The engine, the strategies, the methods and the proposal context write only these; the study and the report read
only these, and never recompute a decision the engine made (a step's train batch, the errors shown, the failing step
named). An event kind is added here, once, with its fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypeVar

from behavopt.core.schema import EVENTS_VERSION, SchemaError, typed
from behavopt.optimizers.candidate import Candidate, candidate_v0_to_v1
from behavopt.optimizers.config import RunConfig


@dataclass(frozen=True, kw_only=True)
class Event:
    kind: ClassVar[str]
    t: float | None = field(default=None, compare=False)  # when it was written (seconds since the epoch)

    def to_line(self, t: float) -> dict[str, Any]:
        """The event as its events.jsonl line: time, kind, then the fields."""
        data = {k: v for k, v in asdict(self).items() if k != "t"}
        return {"t": t, "type": self.kind, **data}


EVENT_TYPES: dict[str, type[Event]] = {}
E = TypeVar("E", bound=Event)


def event_kind(kind: str) -> Callable[[type[E]], type[E]]:
    """Register an event class under its kind (the `type` of its lines)."""

    def register(cls: type[E]) -> type[E]:
        cls.kind = kind
        EVENT_TYPES[kind] = cls
        return cls

    return register


# ---- the run ---------------------------------------------------------------------------------------------------
@event_kind("started")
@dataclass(frozen=True, kw_only=True)
class Started(Event):
    config: RunConfig
    estimated_calls: int
    schema_version: int = EVENTS_VERSION  # of this events file


@event_kind("resumed")
@dataclass(frozen=True, kw_only=True)
class Resumed(Event):
    step: int  # the last finished step the run goes on from


@event_kind("final_test")
@dataclass(frozen=True, kw_only=True)
class FinalTest(Event):
    candidates: tuple[str, ...]  # the initial and the best candidate
    n: int


@event_kind("picked")
@dataclass(frozen=True, kw_only=True)
class Picked(Event):
    candidate: str  # the candidate the run returns
    rule: str  # the search.pick rule that chose it
    leader: str  # the best by dev accuracy, for comparison
    reason: str


# ---- the engine and its strategies -----------------------------------------------------------------------------
@event_kind("candidate")
@dataclass(frozen=True, kw_only=True)
class CandidateMade(Event):
    step: int
    candidate: Candidate


@event_kind("duplicate")
@dataclass(frozen=True, kw_only=True)
class Duplicate(Event):
    """A proposal that shows the target nothing new; it gets no id."""

    step: int
    parent: str | None
    prompt: str


@event_kind("proposal_failed")
@dataclass(frozen=True, kw_only=True)
class ProposalFailed(Event):
    """An LM error while proposing for one parent; the other parents go on."""

    step: int
    parent: str | None
    error: str


@event_kind("train_batch")
@dataclass(frozen=True, kw_only=True)
class TrainBatch(Event):
    """The train examples every parent of a step is scored on to find its errors."""

    step: int
    example_ids: tuple[str, ...]


@event_kind("scored")
@dataclass(frozen=True, kw_only=True)
class Scored(Event):
    step: int
    candidate: str
    split: str
    n: int
    score: float
    selection: str | None = None  # "ucb": a bandit mean over the dev examples pulled


@event_kind("early_stopped")
@dataclass(frozen=True, kw_only=True)
class EarlyStopped(Event):
    """A child below every parent on a dev minibatch, dropped before the rest of dev."""

    step: int
    candidate: str
    minibatch_score: float
    floor: float
    n: int


@event_kind("outraced")
@dataclass(frozen=True, kw_only=True)
class Outraced(Event):
    """A child whose dev score could no longer pass the beam's last member, even with every remaining dev example
    right: its scoring stopped there (racing), since the selection cannot change."""

    step: int
    candidate: str
    score_so_far: float  # the mean over the dev examples scored
    scored: int  # dev examples scored before it stopped
    best_possible: float  # its dev score with every remaining example right
    bar: float  # the dev score of the beam's last member when it stopped
    n: int  # dev examples in all


@event_kind("mcts_iteration")
@dataclass(frozen=True, kw_only=True)
class MctsIteration(Event):
    step: int
    path: tuple[str, ...]
    reward: float


@event_kind("step")
@dataclass(frozen=True, kw_only=True)
class StepEnded(Event):
    step: int
    created: tuple[str, ...]
    beam: tuple[str, ...]
    best_dev: float | None


# ---- what the optimizer was shown and wrote --------------------------------------------------------------------
@event_kind("optimizer_call")
@dataclass(frozen=True, kw_only=True)
class OptimizerCall(Event):
    step: int
    purpose: str  # the template's use: paraphrase, feedback, edit, procedure, localize, refine, ...
    parent: str | None
    sample: int
    prompt: str
    system: str | None
    output: str
    cached: bool
    tokens: int


@event_kind("reply_unusable")
@dataclass(frozen=True, kw_only=True)
class ReplyUnusable(Event):
    """An optimizer reply the method could not use as it was written: a procedure or sub-steps a check refused, a
    demonstration that failed its check, a localisation naming no step. One per reply, whatever followed (a retry, a
    dropped candidate), so that refusals can be counted per purpose against the OptimizerCall events."""

    step: int
    parent: str | None
    purpose: str
    reason: str


@event_kind("errors_shown")
@dataclass(frozen=True, kw_only=True)
class ErrorsShown(Event):
    """The train examples shown to the optimizer as errors of `parent`; with pseudo errors, the fake answers shown."""

    step: int
    parent: str
    example_ids: tuple[str, ...]
    fake_answers: tuple[str, ...] | None = None


@event_kind("no_errors")
@dataclass(frozen=True, kw_only=True)
class NoErrors(Event):
    step: int
    parent: str


@event_kind("unparsed_reply")
@dataclass(frozen=True, kw_only=True)
class UnparsedReply(Event):
    step: int
    purpose: str
    parent: str | None
    output: str


# ---- ABO's checks and localisation -----------------------------------------------------------------------------
@event_kind("procedure_rejected")
@dataclass(frozen=True, kw_only=True)
class ProcedureRejected(Event):
    step: int
    parent: str
    attempt: int
    reason: str
    steps: tuple[str, ...]


@event_kind("demo_rejected")
@dataclass(frozen=True, kw_only=True)
class DemoRejected(Event):
    step: int
    parent: str | None
    example: str
    attempt: int
    reason: str


@event_kind("candidate_dropped")
@dataclass(frozen=True, kw_only=True)
class CandidateDropped(Event):
    step: int
    parent: str | None
    reason: str
    steps: tuple[str, ...] | None = None
    reply: str | None = None


@event_kind("failing_step")
@dataclass(frozen=True, kw_only=True)
class FailingStep(Event):
    """The first step where the target went wrong on one error, and why (the optimizer's reason)."""

    step: int
    parent: str
    example: str
    failing_step: int
    reason: str
    adherent: bool  # the target wrote every step of the procedure


@event_kind("demo_copied")
@dataclass(frozen=True, kw_only=True)
class DemoCopied(Event):
    """Most errors shown gave the demonstration's own answer: the refined procedure gets another demonstration."""

    step: int
    parent: str
    answer: str
    example: str | None


@event_kind("demo_from_target")
@dataclass(frozen=True, kw_only=True)
class DemoFromTarget(Event):
    """No demonstration of the optimizer's passed its check; the target's own output on `example`, right and
    following every step, became the demonstration (None: none of the `tried` examples gave one)."""

    step: int
    parent: str | None
    tried: tuple[str, ...]
    example: str | None


def parse_line(line: dict[str, Any], source: str) -> Event:
    """One events.jsonl line (already at the current version) as its typed event."""
    kind = line.get("type") if isinstance(line, dict) else None
    cls = EVENT_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise SchemaError(f"{source} has an event of unknown type {kind!r}: it was written by another behavopt; "
                          "upgrade behavopt or start a new run directory")
    return typed(cls, {k: v for k, v in line.items() if k != "type"}, source)


def upgrade_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines of an events file of any known version, at the current version. Version 0 (no schema_version on its
    `started` event) wrote pseudo errors as a `pseudo_errors` event beside `errors_shown`, a flat config, and ABO's
    steps in a candidate's `meta`."""
    started = next((line for line in lines if line.get("type") == "started"), None)
    version = (started or {}).get("schema_version", 0 if started else EVENTS_VERSION)
    if not isinstance(version, int) or not 0 <= version <= EVENTS_VERSION:
        raise SchemaError(f"events.jsonl has schema_version {version!r}, which this behavopt does not know (it reads "
                          f"versions up to {EVENTS_VERSION}): upgrade behavopt, or start a new run directory")
    if version == EVENTS_VERSION:
        return lines
    from behavopt.optimizers.config import CONFIG_FORMAT

    out = []
    for line in lines:
        if line.get("type") == "pseudo_errors":
            continue
        if line.get("type") == "started":
            config = CONFIG_FORMAT.current(line.get("config"), "events.jsonl")
            line = {**line, "config": config, "schema_version": EVENTS_VERSION}
        if line.get("type") == "candidate" and isinstance(line.get("candidate"), dict):
            line = {**line, "candidate": candidate_v0_to_v1(line["candidate"])}
        out.append(line)
    return out


def of_kind(events: list[Event], cls: type[E]) -> list[E]:
    """The events of one kind, in the order written."""
    return [e for e in events if isinstance(e, cls)]
