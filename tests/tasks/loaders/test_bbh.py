"""BIG-Bench Hard loader against the real files, plus malformed copies."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task
from behavopt.tasks.loaders.bbh import parse_options

CHOICE, NUMBER, TEXT = AnswerType.CHOICE, AnswerType.NUMBER, AnswerType.TEXT
TASKS = {
    "boolean_expressions": (250, CHOICE), "dyck_languages": (250, TEXT), "formal_fallacies": (250, CHOICE),
    "geometric_shapes": (250, CHOICE), "hyperbaton": (250, CHOICE), "logical_deduction_five_objects": (250, CHOICE),
    "logical_deduction_seven_objects": (250, CHOICE), "logical_deduction_three_objects": (250, CHOICE),
    "movie_recommendation": (250, CHOICE), "multistep_arithmetic_two": (250, NUMBER), "navigate": (250, CHOICE),
    "object_counting": (250, NUMBER), "penguins_in_a_table": (146, CHOICE),
    "reasoning_about_colored_objects": (250, CHOICE), "ruin_names": (250, CHOICE),
    "salient_translation_error_detection": (250, CHOICE), "snarks": (178, CHOICE),
    "tracking_shuffled_objects_five_objects": (250, CHOICE), "tracking_shuffled_objects_seven_objects": (250, CHOICE),
    "tracking_shuffled_objects_three_objects": (250, CHOICE), "word_sorting": (250, TEXT),
}


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_gold_is_judged_correct(bench: Path, name: str) -> None:
    task = load_task(f"bbh:{name}", data_dir=bench)
    count, answer_type = TASKS[name]
    assert len(task.examples) == count
    assert task.answer_type is answer_type
    assert task.name == f"bbh:{name}"
    assert task.examples[0].id == f"{name}-0001"
    assert len({e.id for e in task.examples}) == count
    assert "Answer:" in task.instruction and task.description
    for ex in task.examples:
        answer, ok = task.is_correct(f"Let's think step by step.\nAnswer: {ex.target}", ex)
        assert ok, (ex.id, ex.target, answer)
        if answer_type is CHOICE:
            assert ex.options and ex.target in {label for label, _ in ex.options}


@pytest.mark.parametrize("name", [n for n, (_, t) in TASKS.items() if t is CHOICE])
def test_option_text_answers_count_too(bench: Path, name: str) -> None:
    task = load_task(f"bbh:{name}", data_dir=bench)
    for ex in task.examples:
        text = dict(ex.options)[ex.target]
        assert task.is_correct(f"So the answer is {text}.", ex)[1], (ex.id, text)


def test_wrong_answers_are_wrong(bench: Path) -> None:
    task = load_task("bbh:navigate", data_dir=bench)
    ex = task.examples[0]
    other = "Yes" if ex.target == "No" else "No"
    assert not task.is_correct(f"Answer: {other}", ex)[1]
    task = load_task("bbh:object_counting", data_dir=bench)
    ex = task.examples[0]
    assert not task.is_correct(f"Answer: {int(ex.target) + 1}", ex)[1]


def test_navigate_details(bench: Path) -> None:
    task = load_task("bbh:navigate", data_dir=bench)
    assert task.examples[0].options == (("Yes", "Yes"), ("No", "No"))
    assert {e.target for e in task.examples} == {"Yes", "No"}
    assert "'Answer: Yes' or 'Answer: No'" in task.instruction


def test_options_parsed_from_input(bench: Path) -> None:
    ex = load_task("bbh:geometric_shapes", data_dir=bench).examples[0]
    assert ex.options[0] == ("(A)", "circle") and len(ex.options) == 10


def test_text_targets_mapped_to_labels(bench: Path) -> None:
    # Upstream has a few targets that are option texts split across options at commas.
    movie = {e.id: e for e in load_task("bbh:movie_recommendation", data_dir=bench).examples}
    assert movie["movie_recommendation-0164"].target == "(A)"
    ruin = load_task("bbh:ruin_names", data_dir=bench)
    noted = [e for e in ruin.examples if e.meta.get("note")]
    assert len(noted) == 2 and all(e.target.startswith("(") for e in noted)
    ex = noted[0]
    assert ruin.is_correct(f"Answer: {ex.answers[-1]}", ex)[1]


def test_dyck_and_word_sorting_metrics(bench: Path) -> None:
    dyck = load_task("bbh:dyck_languages", data_dir=bench)
    ex = next(e for e in dyck.examples if e.target == "] ]")
    assert dyck.is_correct("Answer: ]]", ex)[1]
    words = load_task("bbh:word_sorting", data_dir=bench)
    ex = words.examples[1]
    assert words.is_correct("Answer: " + ", ".join(ex.target.split()), ex)[1]
    assert not words.is_correct("Answer: " + " ".join(reversed(ex.target.split())), ex)[1]


def test_parse_options() -> None:
    assert parse_options("Q\nOptions:\n(A) one\n(B) two, three\n") == (("(A)", "one"), ("(B)", "two, three"))
    assert parse_options("no options here") == ()


# --- bad input ---

def _write(root: Path, name: str, content: str | bytes) -> Path:
    (root / "bbh").mkdir(parents=True, exist_ok=True)
    path = root / "bbh" / f"{name}.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_unknown_name_lists_known(bench: Path) -> None:
    with pytest.raises(TaskError, match=r"unknown bbh task 'navigat'.*known names are .*navigate"):
        load_task("bbh:navigat", data_dir=bench)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"not found: .*bbh.*BEHAVOPT_DATA"):
        load_task("bbh:navigate", data_dir=tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "empty", '{"examples": []}')
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}: the dataset has no examples"):
        load_task("bbh:empty", data_dir=tmp_path)


def test_row_without_target(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken", json.dumps({"examples": [{"input": "a", "target": "1"}, {"input": "b"}]}))
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}: row 2 has no 'target'"):
        load_task("bbh:broken", data_dir=tmp_path)


def test_invalid_json(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad", '{"examples": [\n{"input": "a",\n}')
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}:3: invalid JSON"):
        load_task("bbh:bad", data_dir=tmp_path)


def test_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, "latin", '{"examples": [{"input": "caf\xe9", "target": "1"}]}'.encode("latin-1"))
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}:1: not valid UTF-8.*the file must be UTF-8"):
        load_task("bbh:latin", data_dir=tmp_path)


def test_wrong_shape(tmp_path: Path) -> None:
    _write(tmp_path, "list", "[1, 2]")
    with pytest.raises(TaskError, match="expected a JSON object with an 'examples' field"):
        load_task("bbh:list", data_dir=tmp_path)
