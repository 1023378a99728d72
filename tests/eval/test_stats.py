"""The answer-frequency chance: what a prompt scores by its answers' frequencies alone."""

import pytest

from behavopt.eval.stats import answer_chance, chance_corrected, wilson_interval
from behavopt.tasks.types import Example


def exact(answer, example):
    return answer == example.target


def golds(*targets):
    return [Example(id=f"e{i}", input="", target=t) for i, t in enumerate(targets)]


def test_always_one_label_scores_that_labels_gold_share():
    examples = golds(*["(B)"] * 18, *["(A)"] * 7)
    assert answer_chance(["(A)"] * 25, examples, exact) == pytest.approx(7 / 25)
    assert answer_chance(["(B)"] * 25, examples, exact) == pytest.approx(18 / 25)


def test_mixed_answers_give_the_sum_of_products_of_shares():
    examples = golds("Yes", "Yes", "Yes", "No")  # gold shares 3/4, 1/4
    answers = ["Yes", "No", "No", "No"]  # answer shares 1/4, 3/4
    assert answer_chance(answers, examples, exact) == pytest.approx(0.25 * 0.75 + 0.75 * 0.25)


def test_a_prompt_that_solves_the_task_beats_its_chance():
    examples = golds("Yes", "No", "Yes", "No")
    answers = [e.target for e in examples]  # all right
    assert answer_chance(answers, examples, exact) == pytest.approx(0.5)  # while its accuracy is 1.0


def test_unparsed_answers_count_as_wrong_and_the_task_metric_is_used():
    examples = golds("10", "12")
    numeric = lambda a, e: float(a) == float(e.target)  # noqa: E731  ("10.0" matches "10")
    assert answer_chance(["10.0", None], examples, numeric) == pytest.approx(1 / 4)
    assert answer_chance([], [], exact) == 0.0


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(25, 50)
    assert lo < 0.5 < hi and hi - lo < 0.3


def test_chance_corrected_is_zero_for_one_label_and_one_for_all_right():
    assert chance_corrected(0.28, 0.28) == 0.0
    assert chance_corrected(1.0, 0.5) == 1.0
    assert chance_corrected(0.68, 0.702) == pytest.approx(-0.0738, abs=1e-3)
    assert chance_corrected(1.0, 1.0) == 0.0  # every gold the same and every answer it: nothing to correct against


@pytest.mark.parametrize("better,worse,p", [(0, 0, 1.0), (9, 1, 0.021484375), (5, 5, 1.0), (1, 9, 0.021484375),
                                            (6, 0, 0.03125), (5, 0, 0.0625), (20, 10, 0.0987)])
def test_paired_exact_test_matches_the_binomial_tails(better, worse, p):
    from behavopt.eval.stats import paired_comparison

    first = [0.0] * better + [1.0] * worse + [1.0, 0.0]  # two ties, which carry no evidence
    second = [1.0] * better + [0.0] * worse + [1.0, 0.0]
    result = paired_comparison(first, second)
    assert (result.better, result.worse) == (better, worse) and result.p_value == pytest.approx(p, abs=1e-4)
    expected = "significant gain" if p < 0.05 and better > worse else \
        "significantly worse" if p < 0.05 else "no significant difference"
    assert result.verdict == expected


def test_paired_scores_must_be_of_the_same_examples():
    from behavopt.eval.stats import paired_comparison

    with pytest.raises(ValueError, match="different lengths"):
        paired_comparison([1.0], [1.0, 0.0])
