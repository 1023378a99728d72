"""A user's metric: what it may return, and a failure on one example graded 0 with the error kept."""

from __future__ import annotations

import math

import pytest

from behavopt.tasks.metric import Grade, MetricGrader, Score, as_score
from behavopt.tasks.types import Example

EX = Example(id="e1", input="2+2", target="4")


@pytest.mark.parametrize("value, expected", [(True, Score(1.0)), (False, Score(0.0)), (0.25, Score(0.25)),
                                             (1, Score(1.0)), (Score(0.5, " too long "), Score(0.5, "too long")),
                                             (Score(1.0, ""), Score(1.0, None))])
def test_a_metric_may_return_a_bool_a_number_or_a_score(value, expected):
    assert as_score(value) == expected


@pytest.mark.parametrize("value, error", [("yes", TypeError), (None, TypeError), (1.5, ValueError), (-0.1, ValueError),
                                          (math.nan, ValueError), (Score(0.5, 3), TypeError)])
def test_anything_else_is_refused(value, error):
    with pytest.raises(error):
        as_score(value)


def test_the_grader_reads_the_whole_output_and_keeps_the_feedback():
    grader = MetricGrader(lambda ex, out: Score(float(ex.target in out), f"expected {ex.target}"))
    assert grader("  the sum is 4 \n", EX) == Grade(answer="the sum is 4", score=1.0, feedback="expected 4")
    assert grader("5", EX).correct is False and grader.full_marks("4", EX)


@pytest.mark.parametrize("metric", [lambda ex, out: 1 / 0, lambda ex, out: "good", lambda ex, out: ex.fields["nope"]])
def test_a_metric_that_fails_grades_the_example_0_and_records_why(metric):
    grade = MetricGrader(metric)("4", EX)
    assert grade.score == 0.0 and grade.error.startswith("metric raised ") and grade.feedback is None
