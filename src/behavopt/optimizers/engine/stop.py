"""Composable stop conditions, checked between steps. Each returns a reason to stop, or None."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Progress:
    step: int
    calls: int  # LM calls so far (target and optimizer, cache hits excluded)
    tokens: int
    next_step_calls: int  # estimate for the next step
    best_dev: tuple[float, ...] = ()  # best full-dev score so far after each finished step 0..step


class StopCondition(Protocol):
    def __call__(self, progress: Progress) -> str | None: ...


@dataclass(frozen=True)
class StopFile:
    path: Path

    def __call__(self, progress: Progress) -> str | None:
        return f"stop file {self.path} found" if self.path.exists() else None


@dataclass(frozen=True)
class MaxCalls:
    limit: int

    def __call__(self, progress: Progress) -> str | None:
        if progress.calls >= self.limit:
            return f"call budget reached ({progress.calls} >= {self.limit})"
        if progress.calls + progress.next_step_calls > self.limit:
            return (f"call budget would be passed by the next step ({progress.calls} + ~{progress.next_step_calls} "
                    f"> {self.limit})")
        return None


@dataclass(frozen=True)
class MaxTokens:
    limit: int

    def __call__(self, progress: Progress) -> str | None:
        return f"token budget reached ({progress.tokens} >= {self.limit})" if progress.tokens >= self.limit else None


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
