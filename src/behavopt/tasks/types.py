"""What a task is: examples, a default instruction, an answer extractor, a metric, and a seeded split."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Callable

from behavopt.core.errors import TaskError

if TYPE_CHECKING:
    from behavopt.tasks.metric import Grade, MetricGrader


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

    @property
    def fields(self) -> dict[str, Any]:
        """The row the example was made from (every field, for a user's metric), or {} for built-in tasks."""
        return self.meta.get("fields", {})


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
    # A user's metric: it grades the whole output (with a score in [0, 1] and feedback) instead of extract+metric.
    grader: "MetricGrader | None" = None
    # Splits the user gave (train, and dev/test where given): the missing ones are drawn from train.
    given: dict[str, list[Example]] | None = None
    # How the initial instruction reaches the target: "instruction" (before the input in the user turn) or
    # "system" (as the system message, the input as the user turn).
    initial_style: str = "instruction"

    def split(self, train: int | None = None, dev: int | None = None, test: int | None = None,
              seed: int = 0) -> Splits:
        """Seeded, disjoint train/dev/test split. The same seed and sizes always give the same split.

        With splits the user gave, a given dev or test is used whole (its size setting ignored) and a missing one is
        drawn from the given train examples."""
        if self.given is not None:
            return self._split_given(train, dev, test, seed)
        return self._split_pool(self.examples, train, dev, test, seed)

    def _split_given(self, train: int | None, dev: int | None, test: int | None, seed: int) -> Splits:
        """The user's own data: a given split is used whole; a missing one is drawn from train. The sizes are upper
        bounds here: when train holds fewer examples than they ask, the splits drawn from it share it evenly."""
        given = self.given or {}
        pool = self._shuffled(given["train"], seed)
        missing = [(name, size) for name, size in (("dev", dev), ("test", test)) if name not in given]
        share = len(pool) // (len(missing) + 1)
        carved: dict[str, list[Example]] = {name: given[name] for name in ("dev", "test") if name in given}
        for name, size in missing:
            n = share if size is None else min(size, share)
            if n < 1:
                raise TaskError(f"the {len(given['train'])} train examples are too few to draw a {name} split from "
                                f"and keep some to learn from: give more examples, or pass {name} examples")
            carved[name], pool = pool[:n], pool[n:]
        return Splits(train=pool if train is None else pool[:train], dev=carved["dev"], test=carved["test"])

    def _shuffled(self, examples: list[Example], seed: int) -> list[Example]:
        order = list(range(len(examples)))
        random.Random(f"{self.name}:{seed}").shuffle(order)
        return [examples[i] for i in order]

    def _split_pool(self, examples: list[Example], train: int | None, dev: int | None, test: int | None,
                    seed: int) -> Splits:
        d_train, d_dev, d_test = self.default_sizes
        n_train = d_train if train is None else train
        n_dev = d_dev if dev is None else dev
        n = len(examples)
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
        picked = self._shuffled(examples, seed)
        return Splits(train=picked[:n_train], dev=picked[n_train:n_train + n_dev],
                      test=picked[n_train + n_dev:n_train + n_dev + n_test])

    def grade(self, output: str, example: Example) -> "Grade":
        """A model output graded: by the user's metric when the task has one, else extracted and scored 0 or 1."""
        from behavopt.tasks.metric import Grade

        if self.grader is not None:
            return self.grader(output, example)
        answer = self.extract(output, example)
        return Grade(answer, float(answer is not None and self.metric(answer, example)))

    def is_correct(self, output: str, example: Example) -> tuple[str | None, bool]:
        """Extract the answer from a model output and say whether it gets full marks."""
        grade = self.grade(output, example)
        return grade.answer, grade.correct
