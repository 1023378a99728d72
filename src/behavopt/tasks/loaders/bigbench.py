"""BIG-bench JSON tasks: `bigbench:NAME` -> <data>/bigbench/NAME.json.

Multiple-choice examples (`target_scores`) become CHOICE: the options are rendered into the input as
"Options:\\n(A) ...", and the target is the label of the best-scored option. Generative examples (`target`, a string
or a list of acceptable strings) become TEXT / ANY_OF.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

from behavopt.core.errors import TaskError
from behavopt.tasks.build import make_task
from behavopt.tasks.files import read_json
from behavopt.tasks.loaders.common import available, examples_list, field, unknown_name
from behavopt.tasks.types import AnswerType, Example, Task


def _choice_example(name: str, i: int, row: dict, path: Path) -> Example:
    scores = field(row, "target_scores", path, i)
    if not isinstance(scores, dict) or len(scores) < 2:
        raise TaskError(f"{path}: row {i} 'target_scores' must map at least two options to scores: fix that row")
    if len(scores) > len(string.ascii_uppercase):
        raise TaskError(f"{path}: row {i} has {len(scores)} options, more than 26 labels: drop that row")
    texts = list(scores)
    # Upstream lists the right option first in every question_selection example; a seeded per-example shuffle
    # keeps that position from giving the answer away, and stays the same on every load.
    random.Random(f"{name}:{i}").shuffle(texts)
    best = max(float(s) for s in scores.values())
    labels = [f"({string.ascii_uppercase[k]})" for k in range(len(texts))]
    options = tuple(zip(labels, texts))
    right = [label for label, text in options if float(scores[text]) == best]
    rendered = "\n".join(f"{label} {text}" for label, text in options)
    inp = f"{str(field(row, 'input', path, i)).rstrip()}\nOptions:\n{rendered}"
    return Example(id=f"{name}-{i:04d}", input=inp, target=right[0], answers=tuple(right) if len(right) > 1 else (),
                   options=options, meta={"row": i})


def _text_example(name: str, i: int, row: dict, path: Path) -> Example:
    target = field(row, "target", path, i)
    answers = tuple(str(t) for t in target) if isinstance(target, list) else ()
    if isinstance(target, list) and not answers:
        raise TaskError(f"{path}: row {i} has an empty 'target' list: fix or remove that row")
    return Example(id=f"{name}-{i:04d}", input=str(field(row, "input", path, i)),
                   target=answers[0] if answers else str(target), answers=answers if len(answers) > 1 else (),
                   meta={"row": i})


def load(name: str, root: Path) -> Task:
    folder = root / "bigbench"
    path = folder / f"{name}.json"
    if not path.is_file():
        raise unknown_name("bigbench", name, available(folder), folder)
    data = read_json(path)
    rows = examples_list(data, path)
    if not isinstance(rows, list):
        raise TaskError(f"{path}: 'examples' must be a list: is this a BIG-bench task.json?")
    is_choice = bool(rows) and isinstance(rows[0], dict) and "target_scores" in rows[0]
    build = _choice_example if is_choice else _text_example
    examples = [build(name, i, row, path) for i, row in enumerate(rows, start=1)]
    if is_choice:
        answer_type = AnswerType.CHOICE
    else:
        answer_type = AnswerType.ANY_OF if any(ex.answers for ex in examples) else AnswerType.TEXT
    prefix = str(data.get("task_prefix") or data.get("description") or "").strip()
    statement = prefix or "Respond to the input."
    if is_choice and "option" not in statement.lower():
        statement += " Choose one of the options."
    return make_task(f"bigbench:{name}", examples, answer_type, task_statement=statement,
                     labels=["(A)"] if is_choice else None, source=str(path),
                     description=f"BIG-bench {name}: {len(examples)} examples, {answer_type.value} answers. "
                                 f"{str(data.get('description', '')).strip()}".strip())
