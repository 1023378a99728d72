"""A user's examples as a Task: every form `optimize(train=...)` takes, field defaults, checks, and the splits."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks.data import Fields, digest, examples_from, task_from_data
from behavopt.tasks.types import AnswerType, Example

ROWS = [{"question": f"What is {i} + {i}?", "answer": str(2 * i), "level": i % 3} for i in range(30)]


def test_rows_dataframes_datasets_and_files_give_the_same_examples(tmp_path):
    from datasets import Dataset

    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    csv = tmp_path / "train.csv"
    pd.DataFrame(ROWS).to_csv(csv, index=False)
    forms = [ROWS, pd.DataFrame(ROWS), Dataset.from_list(ROWS), jsonl, str(csv)]
    seen = [[(e.id, e.input, e.target) for e in examples_from(form, "train")] for form in forms]
    assert all(s == seen[0] for s in seen) and seen[0][1] == ("train-0002", "What is 1 + 1?", "2")
    assert examples_from(ROWS, "train")[4].fields["level"] == 1  # a metric can read every field


def test_examples_pass_through_and_fields_can_be_named():
    given = Example(id="a", input="x", target="y")
    assert examples_from([given], "train") == [given]
    rows = [{"q": "hi", "gold": "hello", "key": "k1"}]
    (ex,) = examples_from(rows, "dev", Fields(input="q", answer="gold", id="key"))
    assert (ex.id, ex.input, ex.target) == ("k1", "hi", "hello")


@pytest.mark.parametrize("data, fields, needs_answer, message", [
    ([{"body": "x", "answer": "1"}], Fields(), True, "train row 1: no input field (input, question, text, prompt, query) "
                                                      "(fields: body, answer): name it with input_field="),
    ([{"input": "x"}], Fields(), True, "train row 1: no answer field"),
    ([{"input": "x"}], Fields(answer="gold"), False, "no answer field gold"),
    (["just text"], Fields(), True, "train row 1: a row is a str: give each row as a dict"),
    ([], Fields(), True, "the train data has no rows"),
    ({"input": "x"}, Fields(), True, "the train data is one mapping"),
    (42, Fields(), True, "the train data is a int"),
])
def test_bad_rows_are_refused_naming_the_row_and_the_fix(data, fields, needs_answer, message):
    with pytest.raises(TaskError) as err:
        examples_from(data, "train", fields, needs_answer)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_an_empty_dataframe_cell_is_a_missing_field():
    frame = pd.DataFrame([{"input": "a", "answer": "1"}, {"input": "b", "answer": None}])
    with pytest.raises(TaskError, match="train row 2: no answer field answer"):
        examples_from(frame, "train")


def test_with_a_metric_the_answer_field_may_be_absent():
    (ex,) = examples_from([{"input": "x"}], "train", needs_answer=False)
    assert ex.target == ""


def test_bad_files_are_refused_in_one_line(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.json").write_text('{"input": 1}')
    for name, message in (("a.txt", "must be .jsonl, .json, .csv or .tsv"), ("b.json", "must hold a list of rows"),
                          ("missing.jsonl", "missing.jsonl")):
        with pytest.raises(TaskError, match=message):
            examples_from(tmp_path / name, "train")


def test_the_answer_type_is_inferred_and_a_metric_grades_the_whole_output():
    task = task_from_data("Add.", ROWS)
    assert task.answer_type is AnswerType.NUMBER and task.is_correct("Answer: 4.0", task.examples[2])[1]
    words = task_from_data("Name it.", [{"input": "x", "answer": "cat"}, {"input": "y", "answer": "dog"}])
    assert words.answer_type is AnswerType.TEXT
    graded = task_from_data("Add.", ROWS, metric=lambda ex, out: 0.5 if ex.target in out else 0.0)
    grade = graded.grade(" so 4 ", graded.examples[2])
    assert (grade.answer, grade.score, grade.correct) == ("so 4", 0.5, False)


def test_missing_dev_and_test_are_drawn_from_train_with_the_seed():
    task = task_from_data("Add.", ROWS)
    a, b = task.split(seed=1), task.split(seed=1)
    assert [e.id for e in a.dev] == [e.id for e in b.dev] and len(a.train) + len(a.dev) + len(a.test) == 30
    assert not {e.id for e in a.train} & {e.id for e in a.dev + a.test}
    dev = [{"question": "dev q", "answer": "1"}]
    given_dev = task_from_data("Add.", ROWS, dev=dev).split(seed=1)
    assert [e.id for e in given_dev.dev] == ["dev-0001"] and len(given_dev.test) == 15 and len(given_dev.train) == 15
    whole = task_from_data("Add.", ROWS[:10], dev=dev, test=dev * 3).split(train_size := 4, seed=1)
    assert len(whole.train) == train_size and len(whole.test) == 3
    assert len(task_from_data("Add.", ROWS, dev=dev).split(test=40).test) == 15  # sizes are upper bounds here
    few = task_from_data("Add.", ROWS[:20]).split(50, 50, 100, seed=0)
    assert (len(few.train), len(few.dev), len(few.test)) == (8, 6, 6)
    with pytest.raises(TaskError, match="the 1 train examples are too few to draw a test split from"):
        task_from_data("Add.", ROWS[:1], dev=dev).split()


def test_the_digest_changes_with_the_data():
    assert digest(examples_from(ROWS, "train")) == digest(examples_from(ROWS, "train"))
    assert digest(examples_from(ROWS, "train")) != digest(examples_from(ROWS[1:], "train"))
