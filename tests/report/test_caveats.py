"""The caveats `behavopt optimize` prints under the scores and the reports show, when the scores hide something
(no model needed)."""

from behavopt.report.caveats import caveats
from tests.optimizers.test_result import chance, figures, result, with_best


def test_copied_demonstration_is_named_with_its_shares():
    lines = caveats(with_best(figures(demo_answer="(B)", demo_answer_share=0.94, demo_answer_gold_share=0.52)))
    assert lines == ["demonstration copied?: the target gives the demonstration's own answer '(B)' to 94% of dev "
                     "inputs, where 52% have it: it may copy the worked example rather than follow the steps "
                     "(demo_answer_share in result.json)"]


def test_label_shift_is_named_and_a_plain_gain_is_not():
    shifted = result(0.28, 0.56, 0.48, 0.50, chance(0.28, 0.48, 0.60, 0.47))
    assert [line.split(":")[0] for line in caveats(shifted)] == ["label shift on dev"]
    assert caveats(result(0.4, 0.7, 0.4, 0.66, chance(0.4, 0.4, 0.45, 0.42))) == []


def test_one_answer_is_named_only_at_the_one_answer_share():
    from behavopt.study.answers import RunAnswers

    plain = result(0.4, 0.7, 0.4, 0.66, chance(0.4, 0.4, 0.45, 0.42))
    assert caveats(plain, RunAnswers(run="r", commonest="No", share=0.89, kappa=0.0)) == []
    (line,) = caveats(plain, RunAnswers(run="r", commonest="No", share=0.96, kappa=0.0))
    assert line.startswith("one answer: under the best prompt the target gives 'No' to 96% of test inputs")
