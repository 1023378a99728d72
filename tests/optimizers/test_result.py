"""OptimizationResult.label_shifts: a gain no larger than the gain of the answer frequencies alone is named."""

from behavopt.optimizers.result import OptimizationResult


def result(initial_dev, best_dev, initial_test, best_test, chance, best="c0004"):
    return OptimizationResult(
        method="abo", task="bbh:snarks", target="t", optimizer="o", seed=0, initial_prompt="i", best_prompt="b",
        best_candidate=best, initial_dev_score=initial_dev, best_dev_score=best_dev, initial_test_score=initial_test,
        best_test_score=best_test, initial_test_ci95=(0, 1), best_test_ci95=(0, 1), test_size=50, dev_size=25,
        steps=[], usage={}, stop_reason="", run_dir="", settings={}, answer_chance=chance)


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
