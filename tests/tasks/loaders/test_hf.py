"""Hugging Face datasets saved with save_to_disk (skipped when `datasets` is not installed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task
from behavopt.tasks.loaders.hf import parse_spec

ROWS = {"question": ["What is 2+3?", "What is 10-4?", "What is 3*3?"], "answer": ["5", "6", "9"],
        "uid": ["q1", "q2", "q3"]}


@pytest.fixture(scope="module")
def datasets():
    return pytest.importorskip("datasets")


@pytest.fixture(scope="module")
def saved(datasets, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hf")
    datasets.Dataset.from_dict(ROWS).save_to_disk(str(root / "single"))
    sentiment = datasets.Dataset.from_dict(
        {"sentence": ["great film", "dull plot", "loved it"], "label": [1, 0, 1]},
        features=datasets.Features({"sentence": datasets.Value("string"),
                                    "label": datasets.ClassLabel(names=["negative", "positive"])}))
    datasets.DatasetDict({"train": sentiment, "test": sentiment.select([0, 1])}).save_to_disk(str(root / "dict"))
    return root


def test_single_dataset_with_field_mapping(saved: Path) -> None:
    task = load_task(f"hf:{saved / 'single'}?input=question&target=answer&answer_type=number&id=uid")
    assert task.answer_type is AnswerType.NUMBER
    assert [e.id for e in task.examples] == ["q1", "q2", "q3"]
    assert task.examples[0].input == "What is 2+3?"
    for ex in task.examples:
        assert task.is_correct(f"Answer: {ex.target}", ex)[1]
    assert task.instruction.endswith("'Answer: <number>'.")


def test_default_fields_and_ids(saved: Path) -> None:
    task = load_task(f"hf:{saved / 'single'}")  # question/answer are guessed
    assert task.answer_type is AnswerType.TEXT and task.examples[0].id == "single-0001"


def test_dataset_dict_split_and_class_labels(saved: Path) -> None:
    task = load_task(f"hf:{saved / 'dict'}")  # default split: test
    assert len(task.examples) == 2 and task.name.endswith(":test")
    assert task.answer_type is AnswerType.CHOICE
    assert [e.target for e in task.examples] == ["positive", "negative"]  # ClassLabel ids -> names
    assert "'Answer: negative' or 'Answer: positive'" in task.instruction
    train = load_task(f"hf:{saved / 'dict'}:train")
    assert len(train.examples) == 3
    assert train.is_correct("The review is positive.", train.examples[0])[1]


def test_input_field_list_and_format(saved: Path) -> None:
    task = load_task(f"hf:{saved / 'single'}?input=question,uid&target=answer")
    assert task.examples[0].input == "question: What is 2+3?\nuid: q1"
    task = load_task(f"hf:{saved / 'single'}?input=Q%3A%20{{question}}&target=answer")
    assert task.examples[0].input == "Q: What is 2+3?"


def test_label_outside_options(saved: Path) -> None:
    with pytest.raises(TaskError, match=r"row 0: label '5' is not one of the options \(1, 2\)"):
        load_task(f"hf:{saved / 'single'}?target=answer&options=1,2")


def test_bad_specs(saved: Path) -> None:
    with pytest.raises(TaskError, match="has no split 'dev': use one of train, test"):
        load_task(f"hf:{saved / 'dict'}:dev")
    with pytest.raises(TaskError, match="holds a single Dataset"):
        load_task(f"hf:{saved / 'single'}:train")
    with pytest.raises(TaskError, match="unknown setting 'inptu'"):
        load_task(f"hf:{saved / 'single'}?inptu=question")
    with pytest.raises(TaskError, match=r"no 'missing' field for the target"):
        load_task(f"hf:{saved / 'single'}?target=missing")
    with pytest.raises(TaskError, match="dataset folder not found"):
        load_task(f"hf:{saved / 'nope'}")
    with pytest.raises(TaskError, match="answer_type=choice needs options"):
        load_task(f"hf:{saved / 'single'}?answer_type=choice")


def test_not_a_saved_dataset(saved: Path, tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    with pytest.raises(TaskError, match="must be a folder written by Dataset.save_to_disk"):
        load_task(f"hf:{tmp_path / 'junk'}")


def test_parse_spec() -> None:
    assert parse_spec("gsm8k:test?config=main&target=answer") == ("gsm8k", "test", {"config": "main",
                                                                                      "target": "answer"})
    assert parse_spec("/data/my_ds") == ("/data/my_ds", None, {})
    with pytest.raises(TaskError, match="names no dataset"):
        parse_spec("")


def test_hub_names_go_to_load_dataset(datasets, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_load_dataset(name, config=None, split=None):
        calls.append((name, config, split))
        if name == "org/broken":
            raise FileNotFoundError("Couldn't find a dataset script\nmore detail")
        ds = datasets.Dataset.from_dict(ROWS)
        return ds if split else datasets.DatasetDict({"train": ds, "validation": ds.select([0])})

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    task = load_task("hf:org/math:train?config=main&answer_type=number")
    assert calls[-1] == ("org/math", "main", "train") and len(task.examples) == 3
    task = load_task("hf:org/math")
    assert calls[-1] == ("org/math", None, None) and task.name == "hf:org/math:validation"
    with pytest.raises(TaskError, match=r"cannot load hub dataset 'org/broken' \(Couldn't find a dataset script\)"):
        load_task("hf:org/broken")


def test_missing_datasets_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # import now raises ImportError
    with pytest.raises(TaskError, match=r"pip install 'behavopt\[hf\]'"):
        load_task("hf:/some/where")
