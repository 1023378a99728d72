"""Turning rows with named fields into Examples: shared by user task files (yaml) and Hugging Face datasets.

The input is one field, a list of fields (rendered "field: value" per line), or a format string such as
"{question}\\nContext: {context}". Every row is checked; errors name the row and the fix.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import normalize, to_number
from behavopt.tasks.types import AnswerType, Example

ANSWER_TYPES = ", ".join(t.value for t in AnswerType)


@dataclass(frozen=True)
class FieldMap:
    input: str | tuple[str, ...]
    target: str
    answers: str | None = None
    # A list of allowed labels (the same for every row), or the name of a field holding each row's options.
    options: tuple[str, ...] | str | None = None
    id: str | None = None
    answer_type: AnswerType = AnswerType.TEXT

    def input_fields(self) -> list[str]:
        if isinstance(self.input, tuple):
            return list(self.input)
        if "{" in self.input:
            return [f for _, f, _, _ in string.Formatter().parse(self.input) if f]
        return [self.input]


def parse_answer_type(value: Any, where: str) -> AnswerType:
    try:
        return AnswerType(str(value).strip().lower())
    except ValueError:
        raise TaskError(f"{where}: answer_type '{value}' is not one of {ANSWER_TYPES}: fix answer_type") from None


def as_list(value: Any) -> list[str]:
    """A list field: a real list, a JSON list in a string, or "a|b|c" (how CSV files can hold several answers)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return [str(v) for v in parsed]
    return [part.strip() for part in text.split("|") if part.strip()]


def _value(row: dict[str, Any], key: str, loc: str, what: str) -> Any:
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        fields = ", ".join(map(str, row)) or "none"
        raise TaskError(f"{loc}: row has no '{key}' field for the {what} (or it is empty; fields: {fields}): "
                        f"fix the row or the '{what}' setting")
    return value


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_input(fmap: FieldMap, row: dict[str, Any], loc: str) -> str:
    if isinstance(fmap.input, tuple):
        return "\n".join(f"{key}: {_text(_value(row, key, loc, 'input')).strip()}" for key in fmap.input)
    if "{" in fmap.input:
        values = {key: _text(_value(row, key, loc, "input")) for key in fmap.input_fields()}
        try:
            return fmap.input.format(**values)
        except (ValueError, IndexError, KeyError) as e:
            raise TaskError(f"{loc}: bad input format string '{fmap.input}' ({e}): use {{field}} placeholders, "
                            "and {{ }} for literal braces") from None
    return _text(_value(row, fmap.input, loc, "input"))


def row_to_example(fmap: FieldMap, row: dict[str, Any], n: int, task: str, loc: str) -> Example:
    inp = render_input(fmap, row, loc)
    target = str(_value(row, fmap.target, loc, "target")).strip()
    answers = [target]
    if fmap.answers:
        for a in as_list(_value(row, fmap.answers, loc, "answers")):
            if a.strip() and a.strip() not in answers:
                answers.append(a.strip())
    options: tuple[tuple[str, str], ...] = ()
    if fmap.options is not None:
        labels = list(fmap.options) if isinstance(fmap.options, tuple) else as_list(
            _value(row, fmap.options, loc, "options"))
        match = [o for o in labels if o == target] or [o for o in labels if normalize(o) == normalize(target)]
        if not match:
            raise TaskError(f"{loc}: label '{target}' is not one of the options ({', '.join(labels)}): "
                            "fix the row or the 'options' list")
        target = answers[0] = match[0]  # the options' spelling, so "Positive" and "positive" score alike
        options = tuple((o, o) for o in labels)
    if fmap.answer_type is AnswerType.NUMBER:
        for a in answers:
            if to_number(a) is None:
                raise TaskError(f"{loc}: answer '{a}' is not a number but answer_type is number: "
                                "fix the row or set answer_type to text")
    ex_id = str(_value(row, fmap.id, loc, "id")).strip() if fmap.id else f"{task}-{n:04d}"
    return Example(id=ex_id, input=inp, target=target, answers=tuple(answers) if len(answers) > 1 else (),
                   options=options, meta={"row": loc})


def rows_to_examples(fmap: FieldMap, rows: Iterable[tuple[Any, dict[str, Any]]], task: str,
                     locate: Callable[[Any], str]) -> list[Example]:
    """`rows` yields (row number, row); `locate(row number)` says where a row is ("data.csv:12")."""
    return [row_to_example(fmap, row, n, task, locate(row_no))
            for n, (row_no, row) in enumerate(rows, start=1)]
