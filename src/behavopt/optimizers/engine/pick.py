"""The final pick: which of the candidates scored on all of dev a run returns. One rule per class behind the
`FinalPick` protocol, registered once by name in PICKS (the `search.pick` setting).

The search ranks by dev accuracy and the leader is its pick by default. On a small dev split the leader of many
candidates is often the luckiest one, and on unbalanced labels a prompt can lead by giving the commoner answer more
often; the other rules guard against each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from behavopt.eval.evaluator import EvalRecord
from behavopt.eval.stats import answer_chance, chance_corrected, mean_score, paired_comparison
from behavopt.optimizers.candidate import ranked
from behavopt.tasks.types import Example


@dataclass(frozen=True)
class DevResults:
    """One candidate's results on every dev example, in the dev split's order."""

    scores: tuple[float, ...]
    answers: tuple[str | None, ...]

    @classmethod
    def of(cls, records: Sequence[EvalRecord]) -> DevResults:
        return cls(tuple(r.score for r in records), tuple(r.answer for r in records))


@dataclass(frozen=True)
class PickInput:
    initial: str  # the task's own instruction
    leader: str  # the search's best by dev accuracy (ties: the earliest made)
    results: Mapping[str, DevResults]  # every candidate the pick may return, by id
    dev: Sequence[Example]
    metric: Callable[[str, Example], bool]

    def kappa(self, candidate: str) -> float:
        """Dev accuracy corrected for what the candidate's answer frequencies alone would score."""
        r = self.results[candidate]
        return chance_corrected(mean_score(r.scores), answer_chance(list(r.answers), list(self.dev), self.metric))


@dataclass(frozen=True)
class Pick:
    candidate: str
    reason: str  # one line, for the run's events and report


class FinalPick(Protocol):
    name: ClassVar[str]

    def __call__(self, given: PickInput) -> Pick: ...


class LeaderPick:
    """The best by dev accuracy."""

    name: ClassVar[str] = "dev"

    def __call__(self, given: PickInput) -> Pick:
        return Pick(given.leader, "best dev accuracy")


@dataclass(frozen=True)
class SignificantPick:
    """The leader only where it beats the initial instruction on dev by the paired exact test; else the initial:
    a gain a dev split cannot tell from luck is not worth a prompt the user has not seen work."""

    alpha: float = 0.05
    name: ClassVar[str] = "significant"

    def __call__(self, given: PickInput) -> Pick:
        if given.leader == given.initial:
            return Pick(given.initial, "the initial instruction leads on dev")
        c = paired_comparison(given.results[given.initial].scores, given.results[given.leader].scores, self.alpha)
        if c.verdict == "significant gain":
            return Pick(given.leader, f"leads the initial instruction on dev, {c.describe()}")
        return Pick(given.initial, f"kept the initial instruction: the dev leader {given.leader} against it, "
                                   f"{c.describe()}")


class KappaPick:
    """The best by chance-corrected dev accuracy (Cohen's kappa of its answers): a prompt cannot lead by moving the
    target toward the commoner gold answer. Ties go to the earliest made."""

    name: ClassVar[str] = "kappa"

    def __call__(self, given: PickInput) -> Pick:
        kappas = {cid: given.kappa(cid) for cid in given.results}
        best = ranked(kappas, kappas)[0]
        return Pick(best, f"best chance-corrected dev accuracy (kappa {kappas[best]:.3f}; the accuracy leader "
                          f"{given.leader} has {kappas[given.leader]:.3f})")


PICKS: dict[str, FinalPick] = {p.name: p for p in (LeaderPick(), SignificantPick(), KappaPick())}
