"""Small statistics for reporting accuracies honestly."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from behavopt.tasks.types import Example


def wilson_interval(correct: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval for a proportion; sensible at 0/n and n/n, unlike the normal approximation."""
    if n == 0:
        return (0.0, 1.0)
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def mean_score(scores: Sequence[float]) -> float:
    """The mean of per-example scores (accuracy when they are 0 or 1); 0 for none."""
    return sum(scores) / len(scores) if scores else 0.0


def score_interval(scores: Sequence[float], z: float = 1.959964) -> tuple[float, float]:
    """95 % interval of a mean score: Wilson's when every score is 0 or 1, else the normal approximation with the
    sample's standard deviation, clipped to [0, 1]."""
    n = len(scores)
    if all(s in (0.0, 1.0) for s in scores):
        return wilson_interval(int(sum(scores)), n)
    mean = mean_score(scores)
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1)) if n > 1 else 1.0
    half = z * sd / math.sqrt(n)
    return (max(0.0, mean - half), min(1.0, mean + half))


@dataclass(frozen=True)
class PairedComparison:
    """Two prompts scored on the same examples: how many examples the second did better and worse on, the exact
    two-sided sign test of those (McNemar's exact test when scores are 0 or 1), and the plain verdict at 5 %."""

    better: int
    worse: int
    p_value: float
    verdict: str  # "significant gain", "no significant difference" or "significantly worse"

    def describe(self) -> str:
        return (f"paired exact test p = {self.p_value:.3g} ({self.better} examples better, {self.worse} worse): "
                f"{self.verdict}")


def paired_comparison(first: Sequence[float], second: Sequence[float], alpha: float = 0.05) -> PairedComparison:
    """`second` against `first`, example by example (the same examples in the same order). Ties carry no evidence;
    under no difference each untied example is as likely to go either way, so the p-value is two binomial tails."""
    if len(first) != len(second):
        raise ValueError(f"paired scores of different lengths ({len(first)} and {len(second)})")
    better = sum(b > a for a, b in zip(first, second))
    worse = sum(b < a for a, b in zip(first, second))
    n, k = better + worse, min(better, worse)
    p = min(1.0, 2 * sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0
    verdict = ("no significant difference" if p >= alpha else
               "significant gain" if better > worse else "significantly worse")
    return PairedComparison(better, worse, p, verdict)


def answer_chance(answers: Sequence[str | None], examples: Sequence[Example],
                  metric: Callable[[str, Example], bool]) -> float:
    """The accuracy the same answers would get if they were shuffled across the examples: what a prompt scores by
    its answer frequencies alone, whatever the input. A prompt that gains only by giving the commoner gold answer
    more often raises this as much as its accuracy; one that solves the task raises its accuracy above it.
    Scored with the task's own metric over every (answer, example) pair; unparsed answers count as wrong."""
    if not examples:
        return 0.0
    hits = {a: sum(bool(metric(a, e)) for e in examples) for a in set(answers) if a is not None}
    return sum(hits[a] for a in answers if a is not None) / (len(answers) * len(examples))


def chance_corrected(accuracy: float, chance: float) -> float:
    """Cohen's kappa from an accuracy and its answer-frequency chance: 0 for a prompt whose answers are no better
    than their frequencies (always one label, say), 1 for all correct, below 0 for worse than its frequencies."""
    return 0.0 if chance >= 1 else (accuracy - chance) / (1 - chance)
