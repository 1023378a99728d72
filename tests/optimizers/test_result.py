"""OptimizationResult.label_shifts: a gain no larger than the gain of the answer frequencies alone is named;
demo_copying: a best prompt whose target gives its demonstration's answer far more often than it is right."""

from behavopt.optimizers.result import CandidateSummary, OptimizationResult, StepSummary


def result(initial_dev, best_dev, initial_test, best_test, chance, best="c0004", steps=()):
    return OptimizationResult(
        method="abo", task="bbh:snarks", target="t", optimizer="o", seed=0, initial_prompt="i", best_prompt="b",
        best_candidate=best, initial_dev_score=initial_dev, best_dev_score=best_dev, initial_test_score=initial_test,
        best_test_score=best_test, initial_test_ci95=(0, 1), best_test_ci95=(0, 1), test_size=50, dev_size=25,
        steps=list(steps), usage={}, stop_reason="", run_dir="", settings={}, answer_chance=chance)


def test_the_snarks_case_a_label_shift_on_dev_but_not_on_test():
    # Measured shape: the instruction answers "(A)" always (dev chance = (A)'s gold share 0.28); the best prompt
    # answers mostly "(B)", whose dev chance rises by more than its dev gain.
    r = result(0.28, 0.56, 0.48, 0.50, {"initial": {"dev": 0.28, "test": 0.48},
                                        "best": {"dev": 0.60, "test": 0.47}})
    assert r.label_shifts() == [("dev", 0.28, 0.32)]


def test_a_gain_beyond_chance_is_not_a_shift():
    r = result(0.40, 0.70, 0.40, 0.66, {"initial": {"dev": 0.40, "test": 0.40}, "best": {"dev": 0.45, "test": 0.42}})
    assert r.label_shifts() == []


def test_no_gain_no_chance_figures_or_initial_best_say_nothing():
    chance = {"initial": {"dev": 0.2, "test": 0.2}, "best": {"dev": 0.9, "test": 0.9}}
    assert result(0.5, 0.5, 0.5, 0.4, chance).label_shifts() == []
    assert result(0.2, 0.6, 0.2, 0.6, {}).label_shifts() == []
    assert result(0.2, 0.6, 0.2, 0.6, chance, best="c0000").label_shifts() == []


def with_best(extra):
    step = StepSummary(1, [CandidateSummary("c0003", "c0000", "p", 0.5, None, "behavior", {}),
                           CandidateSummary("c0004", "c0000", "p", 0.6, None, "behavior", extra)], ["c0004"])
    return result(0.4, 0.6, 0.4, 0.5, {}, steps=[step])


def test_demo_copying_names_an_answer_given_far_more_often_than_it_is_right():
    # Measured shapes: snarks (B) 94 % given, 52 % gold; object_counting 11 given 28 %, 2 % gold.
    snarks = {"demo_answer": "(B)", "demo_answer_share": 0.94, "demo_answer_gold_share": 0.52}
    assert with_best(snarks).demo_copying() == ("(B)", 0.94, 0.52)
    counting = {"demo_answer": "11", "demo_answer_share": 0.28, "demo_answer_gold_share": 0.02}
    assert with_best(counting).demo_copying() == ("11", 0.28, 0.02)


def test_demo_copying_leaves_answers_given_about_as_often_as_right_and_prompts_without_demos():
    assert with_best({"demo_answer": "No", "demo_answer_share": 0.72, "demo_answer_gold_share": 0.64}).demo_copying() \
        is None
    assert with_best({"steps": ["a", "b"]}).demo_copying() is None
    assert result(0.4, 0.6, 0.4, 0.5, {}).demo_copying() is None  # best candidate not in the steps
