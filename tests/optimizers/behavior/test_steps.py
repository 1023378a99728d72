"""The target's step-labelled output: steps, answer line, adherence, and the table shown for localisation."""

import pytest

from behavopt.optimizers.behavior import adherence, parse_step_output, step_table


def test_parse_step_output_well_formed_and_malformed():
    out = parse_step_output("Step 1: violin, piano\nStep 2: both are instruments\n  still step 2\nStep 3: 2\n"
                            "Answer: 2")
    assert [n for n, _ in out.steps] == [1, 2, 3]
    assert out.text_of(2) == "both are instruments\nstill step 2" and out.answer_line == "Answer: 2"
    messy = parse_step_output("**Step 1.** list\n### step 2 - count\nThe answer is 3")
    assert [n for n, _ in messy.steps] == [1, 2] and messy.answer_line is None
    assert parse_step_output("").steps == () and parse_step_output(None).answer_line is None  # type: ignore[arg-type]


@pytest.mark.parametrize("output, present, in_order, answer, followed", [
    ("Step 1: a\nStep 2: b\nStep 3: c\nAnswer: 4", (True, True, True), True, True, True),
    ("Step 1: a\nStep 3: c\nAnswer: 4", (True, False, True), True, True, False),
    ("Step 2: b\nStep 1: a\nStep 3: c\nAnswer: 4", (True, True, True), False, True, False),
    ("Step 1: a\nStep 2: b\nStep 3: c", (True, True, True), True, False, False),
    ("The answer is 4.", (False, False, False), True, False, False),
])
def test_adherence(output, present, in_order, answer, followed):
    a = adherence(output, 3)
    assert (a.present, a.in_order, a.has_answer, a.followed) == (present, in_order, answer, followed)


def test_answer_written_as_the_last_step_counts_as_the_answer_line():
    out = parse_step_output("Step 1: list\nStep 2: Answer: 8")
    assert [n for n, _ in out.steps] == [1, 2] and out.answer_line == "Answer: 8"
    assert adherence("Step 1: list\nStep 2: Answer: 8", 2).followed


def test_step_table_puts_each_step_beside_what_the_target_wrote():
    steps = ["List the instruments.", "Add their numbers.", "Give the total."]
    table = step_table(steps, "Step 1: violin,\n  two pianos\nStep 3: 3\nAnswer: 3")
    assert table.split("\n\n") == ["Step 1 asks: List the instruments.\nThe model wrote: violin, two pianos",
                                   "Step 2 asks: Add their numbers.\nThe model wrote: (nothing: the step is missing)",
                                   "Step 3 asks: Give the total.\nThe model wrote: 3"]
    # An output without step labels is shown whole, so the optimizer can still judge it.
    unlabelled = step_table(steps, "I count 3.\nAnswer: 3")
    assert unlabelled.startswith("Step 1 asks: List the instruments.\nStep 2 asks:")
    assert unlabelled.endswith("The model labelled no step. Its whole output:\nI count 3.\nAnswer: 3")
