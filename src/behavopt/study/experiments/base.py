"""What every experiment reports: findings with the study's claim, our numbers over seeds, and whether it held."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from behavopt.study.stats import MeanCI, mean_ci, paired_difference


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % t interval (no interval with one seed)."""

    mean: float
    low: float | None
    high: float | None
    n: int
    values: tuple[float, ...]

    @staticmethod
    def of(values: list[float], bounds: tuple[float, float] = (0.0, 1.0)) -> "Estimate":
        """Mean and interval of a bounded quantity (accuracies and rates: 0..1), the interval clipped to the bounds:
        with few seeds a t interval reaches past them, and a rate of 1.3 means nothing."""
        values = [v for v in values if v is not None and math.isfinite(v)]
        if not values:
            return Estimate(float("nan"), None, None, 0, ())
        return Estimate.from_ci(mean_ci(values), values, bounds)

    @staticmethod
    def paired(a: list[float], b: list[float]) -> "Estimate":
        """Mean of a - b over seeds with a paired interval (differences of rates: -1..1)."""
        return Estimate.from_ci(paired_difference(a, b), [x - y for x, y in zip(a, b)], (-1.0, 1.0))

    @staticmethod
    def from_ci(ci: MeanCI, values: list[float], bounds: tuple[float, float]) -> "Estimate":
        lo, hi = bounds
        clip = (lambda x: None if x is None else min(hi, max(lo, x)))
        return Estimate(ci.mean, clip(ci.low), clip(ci.high), ci.n, tuple(values))

    def text(self, digits: int = 3) -> str:
        if self.n == 0:
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.mean:.{digits}f} (n={self.n}, no interval)"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}] (n={self.n})"

    def band(self) -> tuple[float, float | None, float | None]:
        return self.mean, self.low, self.high


@dataclass
class Finding:
    name: str
    claim: str  # what the study found
    ours: str  # what we measured, in one sentence with the numbers
    held: bool | None  # None: the seeds cannot tell
    figure: str | None = None  # PNG file name in the experiment's directory
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class ExperimentReport:
    experiment: str
    setup: dict[str, Any]
    findings: list[Finding]
    per_seed: list[dict[str, Any]]  # the raw per-seed figures behind the findings
    runs: list[str]  # run directories used
    # How varied the target's test answers are under the runs' best prompts (study.answers.AnswerSpread.to_dict).
    target_answers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def no_worse_within_noise(diff: Estimate) -> bool | None:
    """For "A is about as good as B" claims on the difference A - B: held when the interval includes 0 or lies
    above it; refuted when it lies wholly below 0; None with one seed (no interval)."""
    if diff.n == 0 or diff.low is None or diff.high is None:
        return None
    return diff.high >= 0.0
