"""A user's own examples as a Task: given in memory (dicts, `Example`s, a pandas DataFrame, a Hugging Face Dataset)
or as a file (JSONL, JSON list, CSV, TSV), with the user's instruction and, optionally, the user's metric.

Rows are read by field name: the input field (default the first of input, question, text, prompt, query present)
and the answer field (default the first of answer, target, label, output present; optional with a metric, which may
read any field through `example.fields`). Each row is checked; an error names the row and the fix.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import to_number
from behavopt.tasks.build import make_task
from behavopt.tasks.files import iter_csv, iter_jsonl, read_json
from behavopt.tasks.metric import MetricGrader, UserMetric
from behavopt.tasks.types import AnswerType, Example, Task

# Anything `optimize(train=...)` accepts: rows, Examples, a DataFrame, a Dataset, or a data file's path.
Data = Union[str, Path, Iterable[Any]]

INPUT_FIELDS = ("input", "question", "text", "prompt", "query")
ANSWER_FIELDS = ("answer", "target", "label", "output")
FILE_KINDS = ".jsonl, .json, .csv or .tsv"


@dataclass(frozen=True)
class Fields:
    """Which row fields hold the input, the answer and the id (None: the defaults, see the module's docstring)."""

    input: str | None = None
    answer: str | None = None
    id: str | None = None


def rows_of(data: Data, split: str) -> list[tuple[str, Any]]:
    """(where, row) for each row of the data, where is "train row 3" or "data.csv:4"."""
    if isinstance(data, (str, Path)):
        return _file_rows(Path(data).expanduser())
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # a pandas DataFrame
        rows: Iterable[Any] = data.to_dict("records")  # type: ignore[union-attr]
    elif isinstance(data, Mapping):
        raise TaskError(f"the {split} data is one mapping: pass a list of rows (dicts), a DataFrame, a Dataset or a "
                        "file path")
    else:
        try:
            rows = list(data)
        except TypeError:
            raise TaskError(f"the {split} data is a {type(data).__name__}: pass a list of rows (dicts or "
                            "behavopt.Example), a pandas DataFrame, a Hugging Face Dataset or a file path") from None
    return [(f"{split} row {n}", row) for n, row in enumerate(rows, start=1)]


def _file_rows(path: Path) -> list[tuple[str, Any]]:
    fix = "check the path (relative paths start at the current folder)"
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return [(f"{path}:{line}", row) for line, row in iter_jsonl(path, fix)]
    if suffix in (".csv", ".tsv"):
        return [(f"{path}:{line}", row) for line, row in iter_csv(path, "\t" if suffix == ".tsv" else ",", fix)]
    if suffix == ".json":
        data = read_json(path, fix)
        if not isinstance(data, list):
            raise TaskError(f"{path}: a .json data file must hold a list of rows: use a list or JSONL")
        return [(f"{path} row {n}", row) for n, row in enumerate(data, start=1)]
    raise TaskError(f"data file {path} must be {FILE_KINDS}: convert it or name a file of one of those kinds")


def _pick(row: Mapping[str, Any], given: str | None, defaults: tuple[str, ...]) -> str | None:
    if given is not None:
        return given
    return next((name for name in defaults if name in row), None)


def _missing(value: Any) -> bool:
    """No value: absent, empty, or a DataFrame's NaN for an empty cell."""
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def to_example(row: Any, where: str, number: int, split: str, fields: Fields, needs_answer: bool) -> Example:
    """One row as an Example; its id is the id field's value, else "<split>-<row number>"."""
    if isinstance(row, Example):
        return row
    if not isinstance(row, Mapping):
        raise TaskError(f"{where}: a row is a {type(row).__name__}: give each row as a dict of named fields "
                        "(or a behavopt.Example)")
    names = ", ".join(map(str, row)) or "none"
    input_field = _pick(row, fields.input, INPUT_FIELDS)
    if input_field is None or _missing(row.get(input_field)):
        raise TaskError(f"{where}: no input field {input_field or '(' + ', '.join(INPUT_FIELDS) + ')'} "
                        f"(fields: {names}): name it with input_field= / --input-field")
    answer_field = _pick(row, fields.answer, ANSWER_FIELDS)
    if answer_field is None or _missing(row.get(answer_field)):
        if needs_answer or fields.answer is not None:
            raise TaskError(f"{where}: no answer field {answer_field or '(' + ', '.join(ANSWER_FIELDS) + ')'} "
                            f"(fields: {names}): name it with answer_field= / --answer-field, or pass a metric that "
                            "needs none")
        target = ""
    else:
        target = _text(row[answer_field]).strip()
    ex_id = str(row[fields.id]).strip() if fields.id and row.get(fields.id) is not None else f"{split}-{number:04d}"
    return Example(id=ex_id, input=_text(row[input_field]), target=target, meta={"fields": dict(row), "row": where})


def examples_from(data: Data, split: str, fields: Fields = Fields(), needs_answer: bool = True) -> list[Example]:
    rows = rows_of(data, split)
    if not rows:
        source = f" ({data})" if isinstance(data, (str, Path)) else ""
        raise TaskError(f"the {split} data{source} has no rows: give at least one example")
    return [to_example(row, where, n, split, fields, needs_answer) for n, (where, row) in enumerate(rows, start=1)]


def digest(examples: Iterable[Example]) -> str:
    """A fingerprint of the examples (ids, inputs, answers): a resumed run must be given the same data."""
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.id, e.input, e.target, list(e.answers)], ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def answer_type_of(examples: list[Example]) -> AnswerType:
    """Numbers when every answer is one (so "12" and "12.0" match), else normalised text."""
    if all(e.target and to_number(e.target) is not None for e in examples):
        return AnswerType.NUMBER
    return AnswerType.TEXT


def task_from_data(instruction: str, train: Data, dev: Data | None = None, test: Data | None = None, *,
                   metric: UserMetric | None = None, fields: Fields = Fields(), name: str = "custom",
                   answer_type: AnswerType | None = None) -> Task:
    """A Task over the user's examples. Without a metric, answers are extracted and matched by the answer type
    (inferred from the answers: numbers or text); with one, the metric grades the whole output."""
    needs_answer = metric is None
    given = {split: examples_from(data, split, fields, needs_answer)
             for split, data in (("train", train), ("dev", dev), ("test", test)) if data is not None}
    everything = [e for split in given.values() for e in split]
    kind = answer_type or answer_type_of(everything)
    task = make_task(name, everything, kind, instruction=instruction, source=f"the {name} data",
                     description=f"user data {name}: " + ", ".join(f"{len(v)} {k}" for k, v in given.items()))
    task.given = given
    if metric is not None:
        grader = MetricGrader(metric)
        task.grader, task.metric, task.extract = grader, grader.full_marks, lambda output, example: output.strip()
    return task
