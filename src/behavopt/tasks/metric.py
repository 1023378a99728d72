"""A user's own metric: a Python callable `(example, output) -> bool | float | Score`, and what the evaluator keeps
of it (a Grade: the score in [0, 1] and any feedback text).

Answer extraction is the metric's business: it gets the target's whole output. A metric that raises, or returns
something that is not a score, grades that one example 0 with the error recorded; the run goes on.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Union

from behavopt.core.errors import ConfigError
from behavopt.tasks.types import Example


@dataclass(frozen=True)
class Score:
    """What a metric may return instead of a bare number: a value in [0, 1], and feedback text that the reflection
    methods show the optimizer beside the error (why this output is wrong, what was expected)."""

    value: float
    feedback: str | None = None


MetricValue = Union[bool, int, float, Score]
UserMetric = Callable[[Example, str], MetricValue]


@dataclass(frozen=True)
class Grade:
    """One output graded: the answer it was read as, its score in [0, 1], the metric's feedback, and the error when
    the metric failed on it."""

    answer: str | None
    score: float
    feedback: str | None = None
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.score >= 1.0


def as_score(value: object) -> Score:
    """A metric's return value as a Score; anything but a bool, a number in [0, 1] or a Score is a TypeError."""
    if isinstance(value, Score):
        number, feedback = value.value, value.feedback
    elif isinstance(value, (bool, int, float)):
        number, feedback = value, None
    else:
        raise TypeError(f"the metric returned {type(value).__name__}: return a bool, a number in [0, 1] or "
                        "behavopt.Score(value, feedback)")
    number = float(number)
    if math.isnan(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"the metric returned {number}: scores must lie in [0, 1]")
    if feedback is not None and not isinstance(feedback, str):
        raise TypeError(f"the metric's feedback is {type(feedback).__name__}: give text or None")
    return Score(number, feedback.strip() or None if feedback else None)


def metric_name(metric: Callable[..., object]) -> str:
    """module:qualname of a metric, for config.json (a record of which metric scored the run)."""
    return f"{getattr(metric, '__module__', '?')}:{getattr(metric, '__qualname__', type(metric).__name__)}"


@dataclass(frozen=True)
class MetricGrader:
    """Grades outputs with a user metric; the answer recorded is the output itself (stripped)."""

    metric: UserMetric

    def __call__(self, output: str, example: Example) -> Grade:
        answer = output.strip()
        try:
            score = as_score(self.metric(example, output))
        except Exception as err:  # noqa: BLE001 - a user's metric failing on one example must not stop the run
            return Grade(answer=answer, score=0.0, error=f"metric raised {type(err).__name__}: {err}"[:500])
        return Grade(answer=answer, score=score.value, feedback=score.feedback)

    def full_marks(self, answer: str, example: Example) -> bool:
        """The metric as a yes/no on an answer (for answer-frequency chance and the demonstration check)."""
        return self(answer, example).correct


def load_metric(spec: str) -> UserMetric:
    """`module:function` (a module importable from the current folder) or `path/to/file.py:function`."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name.isidentifier():
        raise ConfigError(f"metric '{spec}' is not module:function: write e.g. my_metrics:exact or metrics.py:exact")
    try:
        if where.endswith(".py"):
            file = Path(where).expanduser()
            loader = importlib.util.spec_from_file_location(file.stem, file)
            if loader is None or loader.loader is None or not file.is_file():
                raise ConfigError(f"metric file {file} not found: check the path")
            module = importlib.util.module_from_spec(loader)
            loader.loader.exec_module(module)
        else:
            if "" not in sys.path and str(Path.cwd()) not in sys.path:
                sys.path.insert(0, str(Path.cwd()))
            module = importlib.import_module(where)
    except ConfigError:
        raise
    except Exception as err:  # noqa: BLE001 - any failure importing the user's code is theirs to fix
        raise ConfigError(f"cannot import the metric's module {where}: {type(err).__name__}: {err}") from None
    metric = getattr(module, name, None)
    if not callable(metric):
        raise ConfigError(f"{where} has no function {name}: name a function (example, output) -> score")
    return metric
