"""A user's own task, described by a YAML file (`path/to/task.yaml` as the task spec):

    name: support-intent            # optional; default: the file name
    data: intents.jsonl             # .jsonl, .csv or .tsv, relative to this file's folder
    input: text                     # a field, a list of fields, or a format string "{question}\\nContext: {context}"
    target: label                   # the field holding the gold answer
    answers: aliases                # optional: field with more acceptable answers (a list, or "a|b" in CSV)
    options: [billing, bug, other]  # optional: the allowed labels, or the name of a field listing each row's options
    id: ticket_id                   # optional: default: row number
    answer_type: choice             # text | choice | number | any_of (default: choice with options, any_of with
                                    # answers, else text)
    instruction: Classify the support ticket. End your reply with a line 'Answer: <label>'.
    metric: exact                   # optional override: exact, any_of, number, choice, token_sequence, token_set,
                                    # compact
    description: ...                # optional
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import METRICS
from behavopt.tasks.build import make_task
from behavopt.tasks.files import iter_csv, iter_jsonl, read_text
from behavopt.tasks.loaders.fields import FieldMap, parse_answer_type, rows_to_examples
from behavopt.tasks.types import AnswerType, Task

KEYS = ("name", "data", "input", "target", "answers", "options", "id", "answer_type", "instruction", "metric",
        "description")
READERS = {".jsonl": lambda p, fix: iter_jsonl(p, fix), ".csv": lambda p, fix: iter_csv(p, ",", fix),
           ".tsv": lambda p, fix: iter_csv(p, "\t", fix)}


def _parse_yaml(path: Path) -> dict[str, Any]:
    import yaml  # a core dependency, imported here so `import behavopt.tasks` stays light

    class Loader(yaml.SafeLoader):
        """SafeLoader without YAML 1.1 booleans: `options: [yes, no]` must stay the labels "yes" and "no"."""

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    text = read_text(path, fix="check the task file path")
    try:
        spec = yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        hint = "quote values that contain ': ' or start with a special character, and "
        raise TaskError(f"{path}{line}: invalid YAML ({problem}): {hint}fix the task file") from None
    if not isinstance(spec, dict):
        raise TaskError(f"{path}: a task file must be a YAML mapping with at least data, input and target: "
                        "see the task-file format in the docs")
    return spec


def _str(spec: dict, key: str, path: Path, required: bool = False) -> str | None:
    value = spec.get(key)
    if value is None:
        if required:
            raise TaskError(f"{path}: '{key}' is required: add '{key}: ...' to the task file")
        return None
    if not isinstance(value, str) or not value.strip():
        raise TaskError(f"{path}: '{key}' must be a non-empty string, got {value!r}: fix '{key}' in the task file")
    return value.strip()


def _field_map(spec: dict, path: Path) -> FieldMap:
    raw_input = spec.get("input")
    if isinstance(raw_input, list):
        if not raw_input or not all(isinstance(f, str) and f.strip() for f in raw_input):
            raise TaskError(f"{path}: 'input' as a list must name one or more fields: fix 'input' in the task file")
        inp: str | tuple[str, ...] = tuple(f.strip() for f in raw_input)
    else:
        inp = _str(spec, "input", path, required=True)  # type: ignore[assignment]
    raw_options = spec.get("options")
    options: tuple[str, ...] | str | None
    if raw_options is None or isinstance(raw_options, str):
        options = _str(spec, "options", path)
    elif isinstance(raw_options, list) and len(raw_options) >= 2 and all(
            isinstance(o, (str, int, float, bool)) and str(o).strip() for o in raw_options):
        options = tuple(str(o).strip() for o in raw_options)
        if len(set(options)) != len(options):
            raise TaskError(f"{path}: 'options' lists a label twice: make the labels unique")
    else:
        raise TaskError(f"{path}: 'options' must be a list of at least two labels or the name of a field: "
                        "fix 'options' in the task file")
    answers = _str(spec, "answers", path)
    if "answer_type" in spec:
        answer_type = parse_answer_type(spec["answer_type"], str(path))
    else:
        answer_type = AnswerType.CHOICE if options else AnswerType.ANY_OF if answers else AnswerType.TEXT
    if answer_type is AnswerType.CHOICE and options is None:
        raise TaskError(f"{path}: answer_type choice needs 'options' (a list of labels or a field name): "
                        "add options to the task file")
    return FieldMap(input=inp, target=_str(spec, "target", path, required=True),  # type: ignore[arg-type]
                    answers=answers, options=options, id=_str(spec, "id", path), answer_type=answer_type)


def load(path: Path) -> Task:
    path = Path(path).expanduser()
    if not path.is_file():
        raise TaskError(f"task file not found: {path}: check the path (relative paths start at the current folder)")
    spec = _parse_yaml(path)
    unknown = sorted(str(k) for k in spec if k not in KEYS)
    if unknown:
        raise TaskError(f"{path}: unknown key(s) {', '.join(unknown)}: allowed keys are {', '.join(KEYS)}")
    fmap = _field_map(spec, path)
    name = _str(spec, "name", path) or path.stem
    data = path.parent / _str(spec, "data", path, required=True)  # type: ignore[operator]
    reader = READERS.get(data.suffix.lower())
    if reader is None:
        raise TaskError(f"{path}: data file {data.name} must be .jsonl, .csv or .tsv: convert it or fix 'data'")
    metric_name = _str(spec, "metric", path)
    if metric_name is not None and metric_name not in METRICS:
        raise TaskError(f"{path}: unknown metric '{metric_name}': use one of {', '.join(METRICS)}")
    fix = f"check 'data' in {path} (relative to the task file's folder)"
    examples = rows_to_examples(fmap, reader(data, fix), name, lambda line: f"{data}:{line}")
    labels = list(fmap.options) if isinstance(fmap.options, tuple) else None
    return make_task(name, examples, fmap.answer_type, instruction=_str(spec, "instruction", path),
                     task_statement="Respond to the input.", labels=labels, source=str(data),
                     metric=METRICS[metric_name] if metric_name else None,
                     description=_str(spec, "description", path) or
                     f"user task {name} from {data.name}: {len(examples)} examples, {fmap.answer_type.value} answers")
