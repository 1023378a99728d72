"""GSM8K loader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task


def test_test_split(bench: Path) -> None:
    task = load_task("gsm8k", data_dir=bench)
    assert task.name == "gsm8k:test" and len(task.examples) == 1319
    assert task.answer_type is AnswerType.NUMBER
    first = task.examples[0]
    assert first.id == "gsm8k-test-0001" and first.target == "18"
    assert first.input.startswith("Janet")
    assert "#### " not in first.meta["rationale"] and first.meta["rationale"]
    for ex in task.examples:
        assert "," not in ex.target
        assert task.is_correct(f"Answer: {ex.target}", ex)[1], ex.id
        assert task.is_correct(f"The total is ${int(ex.target):,}.", ex)[1], ex.id


def test_train_split_sample(bench: Path) -> None:
    task = load_task("gsm8k:train", data_dir=bench)
    assert len(task.examples) == 7473 and task.examples[-1].id == "gsm8k-train-7473"
    for ex in task.examples[::50]:
        assert task.is_correct(f"#### {ex.target}", ex)[1]


def test_commas_stripped(bench: Path) -> None:
    task = load_task("gsm8k", data_dir=bench)
    big = [e for e in task.examples if int(e.target) >= 1000]
    assert big and task.is_correct(f"Answer: {int(big[0].target):,}", big[0])[1]


def test_unknown_split(bench: Path) -> None:
    with pytest.raises(TaskError, match="use gsm8k:test or gsm8k:train"):
        load_task("gsm8k:dev", data_dir=bench)


def test_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    path = tmp_path / "gsm8k" / "test.jsonl"
    path.write_text('{"question": "q", "answer": "so #### 4"}\n{"question": "q2", "answer": "no marker"}\n')
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}:2: the answer does not end in '#### <number>'"):
        load_task("gsm8k", data_dir=tmp_path)
    path.write_text('{"question": "q", "answer": "#### 4"}\n{"question": "q2", "answer": \n')
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}:2: invalid JSON line"):
        load_task("gsm8k", data_dir=tmp_path)
    path.write_text('{"answer": "#### 4"}\n')
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}: row 1 has no 'question'"):
        load_task("gsm8k", data_dir=tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    (tmp_path / "gsm8k").mkdir()
    with pytest.raises(TaskError, match=r"data file not found: .*train\.jsonl.*BEHAVOPT_DATA"):
        load_task("gsm8k:train", data_dir=tmp_path)
