import pytest

from behavopt.eval.evaluator import EvalRecord
from behavopt.study.refinement import RefinementOutcome, aggregate_refinements, rate, refinement_outcome, summarize_rate


def rec(ex_id: str, correct: bool, output: str | None = "Answer: x") -> EvalRecord:
    return EvalRecord(id=ex_id, input=f"q {ex_id}", output=output, answer=None if output is None else "x",
                      target="x", correct=correct, error=None if output is not None else "LMError: down",
                      latency_s=0.0, cached=False)


def records(marks: str, ids=None) -> list[EvalRecord]:
    """'RRW.' -> right, right, wrong, failed call; ids e1, e2, ..."""
    ids = ids or [f"e{k + 1}" for k in range(len(marks))]
    return [rec(i, m == "R", None if m == "." else "Answer: x") for i, m in zip(ids, marks)]


def test_rate_is_none_for_empty_denominator():
    assert rate(0, 0) is None
    assert rate(1, 4) == 0.25


def test_outcome_counts_and_rates():
    # e1..e10. Parent right on e1-e4, wrong on e5-e10. Shown: e5, e6, e7 (wrong) and e1 (right: a pseudo error).
    parent = records("RRRRWWWWWW")
    child = records("RWRRRRWRWW")
    o = refinement_outcome(parent, child, {"e1", "e5", "e6", "e7"}, parent_id="p", child_id="c")
    assert (o.parent_id, o.child_id, o.n_examples) == ("p", "c", 10)
    # Shown errors e5, e6, e7: child right on e5, e6.
    assert (o.shown_wrong, o.shown_fixed) == (3, 2)
    assert o.fix_rate_shown == pytest.approx(2 / 3)
    # Other errors e8, e9, e10: child right on e8.
    assert (o.other_wrong, o.other_fixed) == (3, 1)
    assert o.fix_rate_other == pytest.approx(1 / 3)
    # Parent right e1-e4: child wrong on e2.
    assert (o.parent_right, o.regressed) == (4, 1)
    assert o.regression_rate == pytest.approx(0.25)
    assert (o.shown_right, o.shown_right_regressed) == (1, 0)
    assert o.shown_right_regression_rate == 0.0
    assert o.parent_accuracy == pytest.approx(0.4)
    assert o.child_accuracy == pytest.approx(0.6)
    assert o.shown_missing == 0 and o.excluded == 0


def test_rates_are_none_when_nothing_to_fix_or_break():
    o = refinement_outcome(records("RR"), records("RW"), set())
    assert o.fix_rate_shown is None and o.fix_rate_other is None
    assert o.regression_rate == 0.5
    o = refinement_outcome(records("WW"), records("RW"), {"e1"})
    assert o.regression_rate is None
    assert o.fix_rate_shown == 1.0 and o.fix_rate_other == 0.0


def test_failed_calls_are_excluded_and_shown_ids_outside_are_counted():
    parent = records("RW.W")
    child = records("RRWW")
    o = refinement_outcome(parent, child, {"e2", "e3", "t99"})
    assert o.excluded == 1 and o.n_examples == 3
    # e3 (failed) and t99 (not scored) are shown but not usable.
    assert o.shown_missing == 2
    assert (o.shown_wrong, o.shown_fixed, o.other_wrong, o.other_fixed) == (1, 1, 1, 0)
    kept = refinement_outcome(parent, child, {"e2", "e3"}, exclude_failed=False)
    assert kept.n_examples == 4 and kept.shown_wrong == 2 and kept.shown_fixed == 1


def test_mismatched_examples_raise_unless_not_strict():
    parent = records("RWW")
    child = records("RR", ids=["e1", "e2"])
    with pytest.raises(ValueError, match="different examples"):
        refinement_outcome(parent, child, set())
    o = refinement_outcome(parent, child, {"e2"}, strict=False)
    assert o.n_examples == 2 and o.shown_fixed == 1


def test_duplicate_ids_raise():
    with pytest.raises(ValueError, match="twice"):
        refinement_outcome(records("RR", ids=["e1", "e1"]), records("RR", ids=["e1", "e2"]), set())


def test_summarize_rate_micro_and_macro():
    s = summarize_rate([(1, 2), (3, 4), (0, 0)])
    assert s.micro == pytest.approx(4 / 6)
    assert s.macro == pytest.approx((0.5 + 0.75) / 2)
    assert (s.numerator, s.denominator, s.n_pairs) == (4, 6, 2)
    empty = summarize_rate([(0, 0)])
    assert empty.micro is None and empty.macro is None and empty.n_pairs == 0


def test_aggregate_over_pairs():
    a = RefinementOutcome("p", "c1", n_examples=10, shown_wrong=2, shown_fixed=2, other_wrong=4, other_fixed=1,
                          parent_right=4, regressed=0)
    b = RefinementOutcome("p", "c2", n_examples=10, shown_wrong=8, shown_fixed=2, other_wrong=0, other_fixed=0,
                          parent_right=2, regressed=1)
    agg = aggregate_refinements([a, b])
    assert agg.n_pairs == 2
    assert agg.fix_shown.micro == pytest.approx(4 / 10)
    assert agg.fix_shown.macro == pytest.approx((1.0 + 0.25) / 2)
    assert agg.fix_other.micro == pytest.approx(1 / 4) and agg.fix_other.macro == pytest.approx(0.25)
    assert agg.fix_other.n_pairs == 1
    assert agg.regression.micro == pytest.approx(1 / 6)
    assert agg.regression.macro == pytest.approx((0.0 + 0.5) / 2)
    assert agg.shown_right_regression.micro is None
    assert agg.outcomes == (a, b)
    assert aggregate_refinements([]).fix_shown.micro is None
