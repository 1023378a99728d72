"""Composable stop conditions, checked between steps. Each returns a reason to stop, or None."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

from behavopt.optimizers.engine.cost import UNITS, Cost, Measure


@dataclass(frozen=True)
class Progress:
    step: int
    used: Cost  # so far: LM calls and tokens (cache hits excluded), USD, wall seconds
    next_step: Cost  # the next step's estimate
    reserve: Cost = Cost()  # kept back for the final test evaluation, where the budget counts it
    best_dev: tuple[float, ...] = ()  # best full-dev score so far after each finished step 0..step

    @property
    def calls(self) -> int:
        return self.used.calls

    @property
    def tokens(self) -> int:
        return self.used.tokens


class StopCondition(Protocol):
    def __call__(self, progress: Progress) -> str | None: ...


@dataclass(frozen=True)
class StopFile:
    path: Path

    def __call__(self, progress: Progress) -> str | None:
        return f"stop file {self.path} found" if self.path.exists() else None


def _shown(measure: Measure, value: float) -> str:
    return f"{value:.4f}" if measure == "usd" else f"{value:.0f}s" if measure == "seconds" else f"{value:.0f}"


@dataclass(frozen=True)
class CostLimit:
    """A budget in one measure, checked ahead: a step that would pass it (with the final test's share kept back,
    where the budget counts the test) is not started."""

    limit: float
    measure: ClassVar[Measure]

    def __call__(self, progress: Progress) -> str | None:
        m, unit = self.measure, UNITS[self.measure]
        used, ahead, reserve = progress.used.of(m), progress.next_step.of(m), progress.reserve.of(m)
        if used >= self.limit:
            return f"{unit} budget reached ({_shown(m, used)} >= {_shown(m, self.limit)})"
        if used + ahead + reserve > self.limit:
            kept = f" + ~{_shown(m, reserve)} for the final test" if reserve else ""
            return (f"{unit} budget would be passed by the next step ({_shown(m, used)} + ~{_shown(m, ahead)}{kept} "
                    f"> {_shown(m, self.limit)})")
        return None


class MaxCalls(CostLimit):
    measure = "calls"


class MaxTokens(CostLimit):
    measure = "tokens"


class MaxUSD(CostLimit):
    measure = "usd"


class MaxSeconds(CostLimit):
    measure = "seconds"


@dataclass(frozen=True)
class NoImprovement:
    """The best dev score has not risen for `patience` steps: more steps of the same search are unlikely to help."""

    patience: int

    def __call__(self, progress: Progress) -> str | None:
        curve = progress.best_dev
        # Not risen: no higher than `patience` steps ago (a NaN, nothing scored yet, never stops the search).
        if len(curve) <= self.patience or not curve[-1] <= curve[-1 - self.patience]:
            return None
        return f"no dev improvement for {self.patience} steps (best {curve[-1]:.3f} since step {_first_at(curve)})"


def _first_at(curve: tuple[float, ...]) -> int:
    return next(step for step, score in enumerate(curve) if score == curve[-1])


@dataclass(frozen=True)
class ReachedScore:
    """The best dev score reached the score asked for."""

    score: float

    def __call__(self, progress: Progress) -> str | None:
        best = progress.best_dev[-1] if progress.best_dev else None
        return f"dev score {best:.3f} reached {self.score:g}" if best is not None and best >= self.score else None


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[StopCondition, ...]

    def __call__(self, progress: Progress) -> str | None:
        for condition in self.conditions:
            reason = condition(progress)
            if reason:
                return reason
        return None
