"""What a task is: examples, a default instruction, an answer extractor, a metric, and a seeded split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Callable

from behavopt.core.errors import TaskError


class AnswerType(str, Enum):
    """How a gold answer is compared with the model's extracted answer."""

    TEXT = "text"  # normalised exact match
    CHOICE = "choice"  # multiple choice: option label like "(A)" or the option's text
    NUMBER = "number"  # numeric equality
    ANY_OF = "any_of"  # normalised exact match against any of several acceptable answers


@dataclass(frozen=True)
class Example:
    id: str
    input: str
    target: str
    # Every acceptable answer (the target included); empty means just the target.
    answers: tuple[str, ...] = ()
    # For multiple choice: the options as (label, text), e.g. (("(A)", "Paris"), ...). Empty when not a choice task.
    options: tuple[tuple[str, str], ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def acceptable(self) -> tuple[str, ...]:
        return self.answers or (self.target,)


Extractor = Callable[[str, Example], "str | None"]
Metric = Callable[["str | None", Example], bool]


@dataclass(frozen=True)
class Splits:
    train: list[Example]
    dev: list[Example]
    test: list[Example]

    def get(self, name: str) -> list[Example]:
        if name not in ("train", "dev", "test"):
            raise TaskError(f"unknown split '{name}': use train, dev or test")
        return getattr(self, name)


@dataclass
class Task:
    """A loaded task. `extract` turns model output into an answer; `metric` says whether it is correct."""

    name: str
    examples: list[Example]
    instruction: str
    answer_type: AnswerType
    extract: Extractor
    metric: Metric
    description: str = ""
    # Default split sizes (train, dev, test); None means "the rest" for test.
    default_sizes: tuple[int, int, int | None] = (50, 50, None)


    def split(self, train: int | None = None, dev: int | None = None, test: int | None = None,
              seed: int = 0) -> Splits:
        """Seeded, disjoint train/dev/test split. The same seed and sizes always give the same split."""
        d_train, d_dev, d_test = self.default_sizes
        n_train = d_train if train is None else train
        n_dev = d_dev if dev is None else dev
        n = len(self.examples)
        if min(n_train, n_dev) < 0 or (test is not None and test < 0):
            raise TaskError("split sizes must be >= 0: fix --train-size/--dev-size/--test-size")
        # Shrink defaults gracefully on small datasets; explicit sizes that do not fit are an error.
        if train is None and dev is None and n_train + n_dev >= n:
            n_train = n_dev = max(0, min(n_train, (n - 1) // 3))
        rest = n - n_train - n_dev
        n_test = (d_test if d_test is not None and test is None else test)
        if n_test is None:
            n_test = rest
        if n_train + n_dev + n_test > n or rest < 0:
            raise TaskError(
                f"task '{self.name}' has {n} examples but the split asks for train={n_train}, dev={n_dev}, "
                f"test={n_test}: lower the split sizes")
        order = list(range(n))
        random.Random(f"{self.name}:{seed}").shuffle(order)
        picked = [self.examples[i] for i in order]
        return Splits(train=picked[:n_train], dev=picked[n_train:n_train + n_dev],
                      test=picked[n_train + n_dev:n_train + n_dev + n_test])

    def is_correct(self, output: str, example: Example) -> tuple[str | None, bool]:
        """Extract the answer from a model output and score it."""
        answer = self.extract(output, example)
        return answer, bool(answer is not None and self.metric(answer, example))
