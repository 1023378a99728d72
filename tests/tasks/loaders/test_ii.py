"""Instruction-induction loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import AnswerType, load_task

TASKS = ["active_to_passive", "antonyms", "common_concept", "diff", "first_word_letter", "informal_to_formal",
         "letters_list", "negation", "num_to_verbal", "orthography_starts_with", "rhymes", "second_word_letter",
         "sentence_similarity", "sentiment", "singular_to_plural", "sum", "synonyms", "taxonomy_animal",
         "translation_en-de", "translation_en-es", "translation_en-fr"]
SIZES = {"common_concept": 16, "informal_to_formal": 15}


@pytest.mark.parametrize("name", TASKS)
def test_every_acceptable_answer_is_judged_correct(bench: Path, name: str) -> None:
    task = load_task(f"ii:{name}", data_dir=bench)
    assert len(task.examples) == SIZES.get(name, 100)
    assert task.examples[0].id == f"{name}-0001"
    assert "Answer:" in task.instruction
    for ex in task.examples:
        for answer in ex.acceptable:
            assert task.is_correct(f"Answer: {answer}", ex)[1], (ex.id, answer)


def test_answer_types(bench: Path) -> None:
    types = {n: load_task(f"ii:{n}", data_dir=bench).answer_type for n in TASKS}
    assert types["translation_en-de"] is AnswerType.ANY_OF
    assert types["rhymes"] is AnswerType.ANY_OF
    assert types["common_concept"] is AnswerType.ANY_OF
    assert types["sum"] is AnswerType.NUMBER
    assert types["sentiment"] is AnswerType.CHOICE
    assert types["antonyms"] is AnswerType.TEXT


def test_several_acceptable_answers(bench: Path) -> None:
    task = load_task("ii:translation_en-de", data_dir=bench)
    ex = task.examples[0]
    assert ex.input == "place" and ex.target == "Platz" and "Ort" in ex.answers
    assert task.is_correct("Answer: Ort", ex)[1] and not task.is_correct("Answer: Haus", ex)[1]
    rhymes = load_task("ii:rhymes", data_dir=bench)
    ex = rhymes.examples[0]
    assert rhymes.is_correct("Answer: sweet", ex)[1]
    assert not rhymes.is_correct(f"Answer: {ex.input}", ex)[1]  # echoing the input is not a rhyme


def test_common_concept_input_from_items(bench: Path) -> None:
    task = load_task("ii:common_concept", data_dir=bench)
    ex = task.examples[0]
    assert ex.input == "rock climbing, elevators, helicopters"
    assert task.is_correct("Answer: involve going up", ex)[1]


def test_forgiving_metrics(bench: Path) -> None:
    task = load_task("ii:taxonomy_animal", data_dir=bench)
    ex = task.examples[0]
    assert task.is_correct("Answer: " + ", ".join(reversed(ex.target.split(", "))), ex)[1]
    task = load_task("ii:letters_list", data_dir=bench)
    assert task.is_correct("Answer: p, l, a, c, e", task.examples[0])[1]
    task = load_task("ii:sentence_similarity", data_dir=bench)
    ex = task.examples[0]
    assert task.is_correct(f"Answer: {ex.target.split(' - ')[0]}", ex)[1]


def test_induce_split(bench: Path) -> None:
    task = load_task("ii:antonyms:induce", data_dir=bench)
    assert task.name == "ii:antonyms:induce" and len(task.examples) > 1000


def test_unknown(bench: Path, tmp_path: Path) -> None:
    with pytest.raises(TaskError, match=r"unknown instruction-induction task 'antonym'.*antonyms"):
        load_task("ii:antonym", data_dir=bench)
    with pytest.raises(TaskError, match=r"use ii:NAME"):
        load_task("ii:antonyms:train", data_dir=bench)
    folder = tmp_path / "instruction_induction" / "execute"
    folder.mkdir(parents=True)
    (folder / "bad.json").write_text(json.dumps({"examples": {"1": {"input": "x"}}}))
    with pytest.raises(TaskError, match=r"bad\.json: row '1' has no 'output'"):
        load_task("ii:bad", data_dir=tmp_path)
