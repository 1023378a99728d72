"""User task files (YAML) with JSONL, CSV and TSV data, and every way they can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _yaml(tmp_path: Path, text: str, name: str = "task.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


TICKETS = [
    {"ticket": "T1", "text": "I was charged twice", "label": "billing"},
    {"ticket": "T2", "text": "The app crashes on start", "label": "bug"},
    {"ticket": "T3", "text": "Do you ship to Peru?", "label": "Other"},
]


def test_jsonl_choice_task(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    _jsonl(tmp_path / "data" / "tickets.jsonl", TICKETS)
    path = _yaml(tmp_path, "name: support\ndata: data/tickets.jsonl\ninput: text\ntarget: label\n"
                           "options: [billing, bug, other]\nid: ticket\n")
    task = load_task(str(path))
    assert task.name == "support" and task.answer_type is AnswerType.CHOICE
    assert [e.id for e in task.examples] == ["T1", "T2", "T3"]
    assert task.examples[2].target == "other"  # the options' spelling
    assert "'Answer: billing' or 'Answer: bug' or 'Answer: other'" in task.instruction
    for ex in task.examples:
        assert task.is_correct(f"Answer: {ex.target}", ex)[1]
    assert task.is_correct("The ticket is about a bug.", task.examples[1])[1]
    assert not task.is_correct("Answer: bug", task.examples[0])[1]


def test_csv_number_task_with_format_string(tmp_path: Path) -> None:
    (tmp_path / "qa.csv").write_text('question,context,answer\n"How many, total?",3 apples and 4 pears,7\n'
                                     'How many pears?,"4 pears, 2 plums",4\n', encoding="utf-8")
    path = _yaml(tmp_path, 'data: qa.csv\ninput: "{question}\\nContext: {context}"\ntarget: answer\n'
                           "answer_type: number\ninstruction: \"Count. End with 'Answer: <n>'.\"\n")
    task = load_task(str(path))
    assert task.name == "task"  # from the file name
    assert task.examples[0].input == "How many, total?\nContext: 3 apples and 4 pears"
    assert task.examples[0].id == "task-0001"
    assert task.instruction == "Count. End with 'Answer: <n>'."
    assert task.is_correct("3 + 4 = 7", task.examples[0])[1]


def test_field_list_answers_and_metric(tmp_path: Path) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"q": "capital of France", "hint": "city", "a": "Paris", "alts": ["paris, fr"]}])
    path = _yaml(tmp_path, "data: d.jsonl\ninput: [q, hint]\ntarget: a\nanswers: alts\n")
    task = load_task(str(path))
    ex = task.examples[0]
    assert task.answer_type is AnswerType.ANY_OF
    assert ex.input == "q: capital of France\nhint: city"
    assert ex.acceptable == ("Paris", "paris, fr")
    assert task.is_correct("Answer: Paris, FR", ex)[1]
    path = _yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\nmetric: token_set\n")
    assert load_task(str(path)).metric.__name__ == "token_set_match"


def test_csv_answers_with_pipes_and_tsv(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("q,a,more\nhi,hello,hey|hiya\n", encoding="utf-8")
    task = load_task(str(_yaml(tmp_path, "data: d.csv\ninput: q\ntarget: a\nanswers: more\n")))
    assert task.examples[0].acceptable == ("hello", "hey", "hiya")
    (tmp_path / "d.tsv").write_text("q\ta\nhi\thello\n", encoding="utf-8")
    task = load_task(str(_yaml(tmp_path, "data: d.tsv\ninput: q\ntarget: a\n", "t.yml")))
    assert task.examples[0].target == "hello" and task.answer_type is AnswerType.TEXT


def test_per_row_options(tmp_path: Path) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"q": "2+2", "choices": ["3", "4"], "a": "4"}])
    task = load_task(str(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\noptions: choices\n")))
    assert task.examples[0].options == (("3", "3"), ("4", "4"))


# --- bad input: each error is one line naming the file (and row) and the fix ---

def _error(path: Path) -> str:
    with pytest.raises(TaskError) as info:
        load_task(str(path))
    message = str(info.value)
    assert "\n" not in message
    return message


def test_missing_task_file(tmp_path: Path) -> None:
    assert "task file not found" in _error(tmp_path / "nope.yaml")


def test_missing_data_file(tmp_path: Path) -> None:
    message = _error(_yaml(tmp_path, "data: missing.jsonl\ninput: q\ntarget: a\n"))
    assert "missing.jsonl" in message and "relative to the task file's folder" in message


def test_empty_dataset(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text("\n\n")
    assert "d.jsonl: the dataset has no examples" in _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\n"))


def test_row_without_field(tmp_path: Path) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"q": "x", "a": "1"}, {"q": "y"}])
    message = _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\n"))
    assert f"{tmp_path / 'd.jsonl'}:2: row has no 'a' field for the target" in message
    _jsonl(tmp_path / "d.jsonl", [{"q": "x", "a": "1"}])
    message = _error(_yaml(tmp_path, 'data: d.jsonl\ninput: "{q} {context}"\ntarget: a\n'))
    assert "d.jsonl:1: row has no 'context' field for the input" in message


def test_label_outside_options(tmp_path: Path) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"q": "x", "a": "yes"}, {"q": "y", "a": "maybe"}])
    # Bare yes/no stay labels (not YAML 1.1 booleans), so the error can name them as the user wrote them.
    message = _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\noptions: [yes, no]\n"))
    assert f"{tmp_path / 'd.jsonl'}:2: label 'maybe' is not one of the options (yes, no)" in message


def test_unquoted_colon_hint(tmp_path: Path) -> None:
    message = _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\ninstruction: End with Answer: X\n"))
    assert ":4: invalid YAML" in message and "quote values that contain ': '" in message


def test_duplicate_ids(tmp_path: Path) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"id": "a", "q": "x", "t": "1"}, {"id": "b", "q": "y", "t": "2"},
                                  {"id": "a", "q": "z", "t": "3"}])
    message = _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: t\nid: id\n"))
    assert "duplicate example id 'a'" in message and "d.jsonl:1" in message and "d.jsonl:3" in message


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_bytes("q,a\ncafé,1\n".encode("cp1252"))
    message = _error(_yaml(tmp_path, "data: d.csv\ninput: q\ntarget: a\n"))
    assert f"{tmp_path / 'd.csv'}:2: not valid UTF-8" in message and "the file must be UTF-8" in message


def test_invalid_json_line(tmp_path: Path) -> None:
    (tmp_path / "d.jsonl").write_text('{"q": "x", "a": "1"}\n\n{"q": "y", "a": }\n')
    message = _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\n"))
    assert f"{tmp_path / 'd.jsonl'}:3: invalid JSON line" in message
    (tmp_path / "d.jsonl").write_text('["q", "a"]\n')
    assert "d.jsonl:1: expected a JSON object" in _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\n"))


def test_invalid_csv_row(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("q,a\nx,1\ny,2,extra\n")
    message = _error(_yaml(tmp_path, "data: d.csv\ninput: q\ntarget: a\n"))
    assert f"{tmp_path / 'd.csv'}:3: row has more fields than the header's 2" in message
    (tmp_path / "d.csv").write_text("q,a\nx\n")
    assert "d.csv:2: row has fewer fields" in _error(_yaml(tmp_path, "data: d.csv\ninput: q\ntarget: a\n"))


def test_not_a_number(tmp_path: Path) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"q": "x", "a": "12"}, {"q": "y", "a": "twelve-ish"}])
    message = _error(_yaml(tmp_path, "data: d.jsonl\ninput: q\ntarget: a\nanswer_type: number\n"))
    assert "d.jsonl:2: answer 'twelve-ish' is not a number" in message


@pytest.mark.parametrize("text, expected", [
    ("data: d.jsonl\ninput: q\n", "'target' is required"),
    ("input: q\ntarget: a\n", "'data' is required"),
    ("data: d.jsonl\ninput: q\ntarget: a\nprompt: hi\n", "unknown key(s) prompt: allowed keys are name, data"),
    ("data: d.jsonl\ninput: q\ntarget: a\nanswer_type: bool\n", "answer_type 'bool' is not one of text, choice"),
    ("data: d.jsonl\ninput: q\ntarget: a\nanswer_type: choice\n", "answer_type choice needs 'options'"),
    ("data: d.jsonl\ninput: q\ntarget: a\nmetric: bleu\n", "unknown metric 'bleu'"),
    ("data: d.jsonl\ninput: []\ntarget: a\n", "'input' as a list must name one or more fields"),
    ("data: d.jsonl\ninput: q\ntarget: 3\n", "'target' must be a non-empty string"),
    ("data: d.jsonl\ninput: q\ntarget: a\noptions: [only]\n", "'options' must be a list of at least two labels"),
    ("data: d.jsonl\ninput: q\ntarget: a\noptions: [a, a]\n", "lists a label twice"),
    ("data: d.xlsx\ninput: q\ntarget: a\n", "must be .jsonl, .csv or .tsv"),
    ("- just\n- a list\n", "must be a YAML mapping"),
    ("data: [unclosed\n", "invalid YAML"),
])
def test_bad_task_files(tmp_path: Path, text: str, expected: str) -> None:
    _jsonl(tmp_path / "d.jsonl", [{"q": "x", "a": "1"}])
    path = _yaml(tmp_path, text)
    message = _error(path)
    assert str(path) in message and expected in message, message
