"""Built-in generated tasks: deterministic, balanced, and every gold answer re-derived independently here."""

from __future__ import annotations

import ast
import collections
import operator
import re

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task
from behavopt.tasks.demo import CATEGORIES

WORDS = {"a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5}


@pytest.mark.parametrize("name", ["object-counting", "navigate", "arithmetic"])
def test_deterministic_and_well_formed(name: str) -> None:
    a, b = load_task(f"demo:{name}"), load_task(f"demo:{name}")
    assert [(e.id, e.input, e.target) for e in a.examples] == [(e.id, e.input, e.target) for e in b.examples]
    assert len(a.examples) == 200
    assert a.examples[6].id == f"demo-{name}-0007"
    assert len({e.id for e in a.examples}) == 200
    assert len({e.input for e in a.examples}) == 200  # no repeated question to leak across splits
    assert "Answer:" in a.instruction and a.description
    for ex in a.examples:
        assert a.is_correct(f"Answer: {ex.target}", ex)[1]


def test_size_suffix() -> None:
    task = load_task("demo:arithmetic:25")
    assert len(task.examples) == 25 and task.name == "demo:arithmetic:25"
    # A smaller size is a prefix of the default one: the generator's stream does not depend on the size.
    for name in ("arithmetic", "navigate", "object-counting"):
        small = load_task(f"demo:{name}:25").examples
        assert [e.input for e in small] == [e.input for e in load_task(f"demo:{name}").examples[:25]]


@pytest.mark.parametrize("spec", ["demo:chess", "demo:navigate:0", "demo:navigate:x"])
def test_bad_demo_specs(spec: str) -> None:
    with pytest.raises(TaskError, match="demo"):
        load_task(spec)


def test_object_counting_golds() -> None:
    task = load_task("demo:object-counting")
    assert task.answer_type is AnswerType.NUMBER
    category_of = {}
    for category, items in CATEGORIES.items():
        for singular, plural in items:
            category_of[singular] = category_of[plural] = category
    categories = collections.Counter()
    for ex in task.examples:
        m = re.fullmatch(r"I have (.*)\. How many (.*) do I have\?", ex.input)
        assert m, ex.input
        listing, category = m.groups()
        categories[category] += 1
        total = 0
        for phrase in re.split(r", and |, | and ", listing):
            count_word, item = phrase.split(" ", 1)
            assert item in category_of, phrase
            total += WORDS[count_word] if category_of[item] == category else 0
        assert str(total) == ex.target, ex.input
    assert set(categories) == set(CATEGORIES)


def _returns_to_start(text: str) -> bool:
    body = text.split("?", 1)[1].split("\nOptions:")[0]
    x = y = 0
    dx, dy = 0, 1
    for ins in [s.strip() for s in body.split(".") if s.strip()]:
        if ins == "Always face forward":
            continue
        if ins.startswith("Turn"):
            turns = {"Turn left": 1, "Turn around": 2, "Turn right": 3}[ins]  # counter-clockwise quarter turns
            for _ in range(turns):
                dx, dy = -dy, dx
            continue
        m = re.fullmatch(r"Take (\d+) steps?(?: (forward|backward|left|right))?", ins)
        assert m, ins
        n, direction = int(m.group(1)), m.group(2)
        step = {"forward": (0, 1), "backward": (0, -1), "left": (-1, 0), "right": (1, 0)}.get(direction, (dx, dy))
        x, y = x + n * step[0], y + n * step[1]
    return x == 0 and y == 0


def test_navigate_golds_and_balance() -> None:
    task = load_task("demo:navigate")
    assert task.answer_type is AnswerType.CHOICE
    labels = collections.Counter(e.target for e in task.examples)
    assert labels == {"Yes": 100, "No": 100}
    for ex in task.examples:
        assert ("Yes" if _returns_to_start(ex.input) else "No") == ex.target, ex.input
        assert ex.options == (("Yes", "Yes"), ("No", "No"))
    styles = collections.Counter("Always face forward" in e.input for e in task.examples)
    assert styles[True] > 50 and styles[False] > 50
    assert any("Turn around" in e.input for e in task.examples)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul}


def _eval(node: ast.AST) -> int:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.BinOp):
        return _OPS[type(node.op)](_eval(node.left), _eval(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand)
    assert isinstance(node, ast.Constant) and isinstance(node.value, int)
    return node.value


def test_arithmetic_golds() -> None:
    task = load_task("demo:arithmetic")
    assert task.answer_type is AnswerType.NUMBER
    for ex in task.examples:
        assert re.fullmatch(r"\(\([-\d +*]+\) [-+*] \([-\d +*]+\)\) =", ex.input), ex.input
        assert str(_eval(ast.parse(ex.input.rstrip(" ="), mode="eval"))) == ex.target, ex.input
