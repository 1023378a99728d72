"""Classification (EvoPrompt) loader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task


@pytest.mark.parametrize("spec, labels", [
    ("cls:sst2", {"negative", "positive"}),
    ("cls:trec", {"Description", "Entity", "Expression", "Human", "Location", "Number"}),
    ("cls:agnews", {"World", "Sports", "Business", "Tech"}),
    ("cls:agnews:test", {"World", "Sports", "Business", "Tech"}),
])
def test_loads_and_golds_count(bench: Path, spec: str, labels: set[str]) -> None:
    task = load_task(spec, data_dir=bench)
    assert len(task.examples) == 500 and task.answer_type is AnswerType.CHOICE
    assert {e.target for e in task.examples} == labels
    assert {t for _, t in task.examples[0].options} == labels
    assert "Answer:" in task.instruction
    for ex in task.examples:
        assert task.is_correct(f"Answer: {ex.target}", ex)[1]
        assert task.is_correct(f"answer: {ex.target.lower()}.", ex)[1]


def test_label_map_and_instruction(bench: Path) -> None:
    task = load_task("cls:sst2", data_dir=bench)
    first = task.examples[0]
    assert first.id == "sst2-0001" and first.target == "negative"  # label id 0
    assert task.instruction.startswith("Please perform Sentiment Classification task.")
    assert "Return label only" not in task.instruction  # would contradict the Answer: line
    agnews = load_task("cls:agnews", data_dir=bench)
    assert agnews.examples[0].target == "Tech" and agnews.examples[1].target == "Sports"
    assert load_task("cls:agnews:test", data_dir=bench).examples[0].id == "agnews-test-0001"


def test_bad_specs(bench: Path) -> None:
    with pytest.raises(TaskError, match="known names are sst2, trec, agnews"):
        load_task("cls:imdb", data_dir=bench)
    with pytest.raises(TaskError, match="cls:sst2 has no 'test' split"):
        load_task("cls:sst2:test", data_dir=bench)


def test_bad_rows(tmp_path: Path) -> None:
    folder = tmp_path / "classification" / "sst2"
    folder.mkdir(parents=True)
    path = folder / "dev_500.tsv"
    path.write_text("good film\t1\nbad film\t7\n")
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}:2: label '7' is not one of \[0, 1\]"):
        load_task("cls:sst2", data_dir=tmp_path)
    path.write_text("good film\t1\nno label here\n")
    with pytest.raises(TaskError, match=rf"{re.escape(str(path))}:2: expected 'text<TAB>label_id'"):
        load_task("cls:sst2", data_dir=tmp_path)
    path.write_bytes(b"caf\xe9\t1\n")
    with pytest.raises(TaskError, match="the file must be UTF-8"):
        load_task("cls:sst2", data_dir=tmp_path)
