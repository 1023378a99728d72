"""Hugging Face datasets: `hf:NAME[:SPLIT][?key=value&...]`.

NAME is a folder written by `Dataset.save_to_disk` / `DatasetDict.save_to_disk`, or a hub dataset name.
SPLIT picks a split of a DatasetDict (default: test, else validation, else train, else the only one).
The query string maps fields and settings, URL-encoded:

    input=question                  the input field; "question,context" renders "question: ...\\ncontext: ..." lines;
                                    a format string also works: input={question}%0AContext:%20{context}
    target=answer                   the gold field (a ClassLabel column gives its label names)
    answers=aliases                 a field listing more acceptable answers
    options=a,b,c | options=field   the allowed labels, or a field holding each row's options
    id=field                        example ids (default: row number)
    answer_type=number              text | choice | number | any_of
    config=main                     the hub dataset's configuration
    instruction=...  metric=...  name=...

Without input/target, the first present of input/question/text/sentence/prompt and target/answer/label/output
are used. e.g. `hf:/data/my_ds:test?input=question&target=answer&answer_type=number`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import METRICS
from behavopt.tasks.build import make_task
from behavopt.tasks.loaders.fields import FieldMap, parse_answer_type, rows_to_examples
from behavopt.tasks.types import AnswerType, Task

KEYS = ("input", "target", "answers", "options", "id", "answer_type", "config", "instruction", "metric", "name")
INPUT_GUESSES = ("input", "question", "text", "sentence", "prompt")
TARGET_GUESSES = ("target", "answer", "label", "output")
SPLIT_PREFERENCE = ("test", "validation", "train")
_SPLIT = re.compile(r"^[A-Za-z0-9_.+\-\[\]%]+$")
INSTALL = "the hf: loader needs the 'datasets' package: pip install 'behavopt[hf]'"


def _datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise TaskError(INSTALL) from None
    return datasets


def parse_spec(spec: str) -> tuple[str, str | None, dict[str, str]]:
    """'NAME[:SPLIT][?k=v&...]' -> (name, split or None, settings)."""
    location, _, query = spec.partition("?")
    params: dict[str, str] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in KEYS:
            raise TaskError(f"unknown setting '{key}' in 'hf:{spec}': use {', '.join(KEYS)}")
        params[key] = values[-1]
    name, split = location, None
    head, sep, tail = location.rpartition(":")
    # A trailing ":word" is a split unless the whole thing is an existing path (paths may contain ':').
    if sep and head and _SPLIT.match(tail) and not Path(location).expanduser().exists():
        name, split = head, tail
    if not name.strip():
        raise TaskError(f"'hf:{spec}' names no dataset: use hf:NAME, hf:/path/saved/with/save_to_disk or hf:NAME:SPLIT")
    return name, split, params


def _pick_split(dsets: Any, split: str | None, name: str) -> tuple[Any, str]:
    names = list(dsets.keys())
    if split is not None:
        if split not in dsets:
            raise TaskError(f"dataset '{name}' has no split '{split}': use one of {', '.join(names)}")
        return dsets[split], split
    for s in SPLIT_PREFERENCE:
        if s in dsets:
            return dsets[s], s
    if not names:
        raise TaskError(f"dataset '{name}' has no splits: check the dataset")
    return dsets[names[0]], names[0]


def _open(name: str, split: str | None, config: str | None) -> tuple[Any, str]:
    datasets = _datasets()
    path = Path(name).expanduser()
    if path.exists():
        try:
            loaded = datasets.load_from_disk(str(path))
        except Exception as e:  # noqa: BLE001 - datasets raises many types; the user needs one line
            first = (str(e).splitlines() or [type(e).__name__])[0]
            raise TaskError(f"cannot load the dataset saved at {path} ({first}): it must be a folder written by "
                            "Dataset.save_to_disk or DatasetDict.save_to_disk") from None
        if isinstance(loaded, datasets.DatasetDict):
            return _pick_split(loaded, split, name)
        if split is not None:
            raise TaskError(f"{path} holds a single Dataset, not splits: drop ':{split}' from the task spec")
        return loaded, "all"
    if name.startswith((".", "/", "~")) or "\\" in name:
        raise TaskError(f"dataset folder not found: {path}: check the path (or give a hub dataset name)")
    try:
        loaded = datasets.load_dataset(name, config) if split is None else datasets.load_dataset(name, config,
                                                                                                   split=split)
    except Exception as e:  # noqa: BLE001
        first = (str(e).splitlines() or [type(e).__name__])[0]
        raise TaskError(f"cannot load hub dataset '{name}' ({first}): check the name, split and config=, or pass "
                        "a folder written by save_to_disk") from None
    if isinstance(loaded, datasets.DatasetDict):
        return _pick_split(loaded, split, name)
    return loaded, split or "all"


def _guess(columns: list[str], given: str | None, guesses: tuple[str, ...], what: str, name: str) -> str:
    if given:
        return given
    for g in guesses:
        if g in columns:
            return g
    raise TaskError(f"dataset '{name}' has no obvious {what} field (columns: {', '.join(columns)}): "
                    f"add ?{what}=COLUMN to the task spec")


def load(spec: str) -> Task:
    name, split, params = parse_spec(spec)
    ds, split_name = _open(name, split, params.get("config") or None)
    columns = list(ds.column_names)
    target = _guess(columns, params.get("target"), TARGET_GUESSES, "target", name)
    raw_input = params.get("input") or _guess(columns, None, INPUT_GUESSES, "input", name)
    inp: str | tuple[str, ...] = raw_input if "{" in raw_input or "," not in raw_input else tuple(
        f.strip() for f in raw_input.split(",") if f.strip())

    # A ClassLabel target stores ints; its names are the labels the model should say.
    label_names = getattr(ds.features.get(target), "names", None) if target in ds.features else None
    options: tuple[str, ...] | str | None = None
    if params.get("options"):
        raw = params["options"]
        options = raw if raw in columns else tuple(o.strip() for o in raw.split(",") if o.strip())
    elif label_names:
        options = tuple(label_names)
    if "answer_type" in params:
        answer_type = parse_answer_type(params["answer_type"], f"hf:{spec}")
    else:
        answer_type = AnswerType.CHOICE if options else AnswerType.ANY_OF if params.get("answers") else AnswerType.TEXT
    if answer_type is AnswerType.CHOICE and options is None:
        raise TaskError(f"hf:{spec}: answer_type=choice needs options=a,b,c or options=COLUMN")
    metric_name = params.get("metric")
    if metric_name and metric_name not in METRICS:
        raise TaskError(f"hf:{spec}: unknown metric '{metric_name}': use one of {', '.join(METRICS)}")
    fmap = FieldMap(input=inp, target=target, answers=params.get("answers") or None, options=options,
                    id=params.get("id") or None, answer_type=answer_type)

    def rows():
        for i, row in enumerate(ds):
            if label_names and isinstance(row.get(target), int) and 0 <= row[target] < len(label_names):
                row = {**row, target: label_names[row[target]]}
            yield i, row

    task_name = params.get("name") or f"hf:{name}:{split_name}"
    short = Path(name).name or name
    examples = rows_to_examples(fmap, rows(), re.sub(r"[^\w.-]+", "-", short).strip("-") or "hf",
                                lambda i: f"{name} [{split_name}] row {i}")
    labels = list(options) if isinstance(options, tuple) else None
    return make_task(task_name, examples, answer_type, instruction=params.get("instruction") or None,
                     task_statement="Respond to the input.", labels=labels, source=f"{name} [{split_name}]",
                     metric=METRICS[metric_name] if metric_name else None,
                     description=f"Hugging Face dataset {name} [{split_name}]: {len(examples)} examples, "
                                 f"{answer_type.value} answers")
