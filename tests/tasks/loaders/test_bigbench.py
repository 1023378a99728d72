"""BIG-bench loader: question_selection, and a generative task written to tmp_path."""

from __future__ import annotations

import collections
import json
import re
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task


def test_question_selection(bench: Path) -> None:
    task = load_task("bigbench:question_selection", data_dir=bench)
    assert len(task.examples) == 1590
    assert task.answer_type is AnswerType.CHOICE
    assert task.examples[0].id == "question_selection-0001"
    assert task.instruction.startswith("Given a short answer along with its context, select the most appropriate")
    assert "Answer: (X)" in task.instruction
    raw = json.loads((bench / "bigbench" / "question_selection.json").read_text())["examples"]
    for ex, row in zip(task.examples, raw):
        assert task.is_correct(f"Answer: {ex.target}", ex)[1]
        # The target is the option scored 1.0, and every option is rendered into the input.
        right = dict(ex.options)[ex.target]
        assert row["target_scores"][right] == 1.0
        assert "\nOptions:\n(A) " in ex.input
        for label, text in ex.options:
            assert f"{label} {text}" in ex.input
        assert task.is_correct(f"The best question is: {right}", ex)[1]


def test_options_are_shuffled_deterministically(bench: Path) -> None:
    a = load_task("bigbench:question_selection", data_dir=bench)
    b = load_task("bigbench:question_selection", data_dir=bench)
    assert [e.input for e in a.examples] == [e.input for e in b.examples]
    # Upstream always lists the right option first; the loader must not give that away.
    positions = collections.Counter(e.target for e in a.examples)
    assert positions["(A)"] < 0.7 * len(a.examples) and positions["(B)"] > 0.2 * len(a.examples)


def test_generative_bigbench_task(tmp_path: Path) -> None:
    (tmp_path / "bigbench").mkdir()
    (tmp_path / "bigbench" / "gen.json").write_text(json.dumps({
        "task_prefix": "Name the capital.",
        "examples": [{"input": "France", "target": ["Paris", "paris"]}, {"input": "Peru", "target": "Lima"}]}))
    task = load_task("bigbench:gen", data_dir=tmp_path)
    assert task.answer_type is AnswerType.ANY_OF
    assert task.instruction.startswith("Name the capital.")
    assert task.is_correct("Answer: Paris", task.examples[0])[1]
    assert task.is_correct("Answer: Lima", task.examples[1])[1]


def test_bad_target_scores(tmp_path: Path) -> None:
    (tmp_path / "bigbench").mkdir()
    path = tmp_path / "bigbench" / "bad.json"
    path.write_text(json.dumps({"examples": [{"input": "q", "target_scores": {"a": 1}}]}))
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}: row 1 'target_scores' must map at least two"):
        load_task("bigbench:bad", data_dir=tmp_path)


def test_unknown_bigbench_name(bench: Path) -> None:
    with pytest.raises(TaskError, match="known names are question_selection"):
        load_task("bigbench:nope", data_dir=bench)
