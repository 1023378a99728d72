"""Task.split: seeded, disjoint, sized; and Task.is_correct."""

from __future__ import annotations

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, Example, load_task
from behavopt.tasks.build import make_task


def _task(n: int, name: str = "t"):
    examples = [Example(id=f"t-{i:04d}", input=f"q{i}", target=str(i)) for i in range(n)]
    return make_task(name, examples, AnswerType.NUMBER, task_statement="Count.")


def _ids(examples: list[Example]) -> list[str]:
    return [e.id for e in examples]


def test_same_seed_same_split() -> None:
    a, b = _task(200).split(seed=3), _task(200).split(seed=3)
    assert _ids(a.train) == _ids(b.train) and _ids(a.dev) == _ids(b.dev) and _ids(a.test) == _ids(b.test)


def test_different_seed_different_split() -> None:
    a, b = _task(200).split(seed=0), _task(200).split(seed=1)
    assert _ids(a.train) != _ids(b.train)


def test_split_is_disjoint_and_sized() -> None:
    s = _task(200).split(train=30, dev=20, seed=0)
    assert (len(s.train), len(s.dev), len(s.test)) == (30, 20, 150)
    ids = _ids(s.train) + _ids(s.dev) + _ids(s.test)
    assert len(set(ids)) == 200
    s = _task(200).split(train=10, dev=10, test=5)
    assert (len(s.train), len(s.dev), len(s.test)) == (10, 10, 5)
    assert s.get("test") == s.test


def test_split_is_stable_for_a_real_task() -> None:
    # The demo task is generated with a fixed seed, so its split ids are the same on every load.
    a, b = load_task("demo:navigate").split(seed=7), load_task("demo:navigate").split(seed=7)
    assert _ids(a.test) == _ids(b.test)


def test_small_task_shrinks_default_sizes() -> None:
    s = _task(16).split()
    assert len(s.train) == len(s.dev) == 5 and len(s.test) == 6


def test_split_too_large_is_an_error() -> None:
    with pytest.raises(TaskError, match="lower the split sizes"):
        _task(20).split(train=15, dev=10)
    with pytest.raises(TaskError, match="unknown split"):
        _task(20).split().get("validation")


def test_is_correct() -> None:
    task = _task(5)
    ex = task.examples[3]
    assert task.is_correct("Answer: 3", ex) == ("3", True)
    assert task.is_correct("Answer: 4", ex) == ("4", False)
    assert task.is_correct("no idea", ex) == (None, False)
