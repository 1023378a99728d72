"""Assembling a Task from loaded examples, with the checks every loader needs (non-empty, unique ids)."""

from __future__ import annotations

import re

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import answer_format, extractor_for, metric_for
from behavopt.tasks.types import AnswerType, Example, Extractor, Metric, Task


def make_task(name: str, examples: list[Example], answer_type: AnswerType, *, task_statement: str | None = None,
              instruction: str | None = None, description: str = "", source: str = "",
              metric: Metric | None = None, extract: Extractor | None = None,
              labels: list[str] | None = None) -> Task:
    """A Task with the default extractor/metric for its answer type unless given.

    Pass `instruction` to use it as is, or `task_statement` ("Count the objects ...") to have the answer-format
    sentence appended; `labels` lets that sentence list the allowed answers of a choice task.
    """
    where = source or name
    if not examples:
        raise TaskError(f"{where}: the dataset has no examples: check the file (or the split/field names)")
    seen: dict[str, int] = {}
    for i, ex in enumerate(examples):
        if ex.id in seen:
            row_a = examples[seen[ex.id]].meta.get("row", seen[ex.id] + 1)
            row_b = ex.meta.get("row", i + 1)
            raise TaskError(f"{where}: duplicate example id '{ex.id}' (rows {row_a} and {row_b}): "
                            "make the ids unique or leave the id field out to number rows")
        seen[ex.id] = i
    if instruction is None:
        statement = (task_statement or "Respond to the input.").strip()
        instruction = f"{statement} {answer_format(answer_type, labels)}"
    return Task(name=name, examples=examples, instruction=instruction, answer_type=answer_type,
                extract=extract or extractor_for(answer_type), metric=metric or metric_for(answer_type),
                description=description)


def shared_labels(examples: list[Example]) -> list[str] | None:
    """The option labels when every example has the same ones (so the instruction can name them), else None."""
    first = [label for label, _ in examples[0].options] if examples else []
    if first and all([label for label, _ in ex.options] == first for ex in examples):
        return first
    if examples and all(ex.options for ex in examples) and all(
            re.fullmatch(r"\([A-Z]\)", label) for ex in examples for label, _ in ex.options):
        return ["(A)"]  # lettered options that vary per example: the instruction only needs the letter form
    return None
