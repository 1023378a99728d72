"""OptimizationResult: label_shifts names a gain no larger than the gain of the answer frequencies alone;
demo_copying names a best prompt whose target gives its demonstration's answer far more often than it is right; the
file format round-trips, upgrades a version-0 result.json written by a real run, and refuses unknown versions."""

import json
from pathlib import Path

import pytest

from behavopt.core.schema import SchemaError
from behavopt.eval.prompts import Prompt
from behavopt.lm.types import Message
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.behavior import BehaviorFigures
from behavopt.optimizers.result import (AnswerChance, CandidateSummary, OptimizationResult, RunUsage, SplitChance,
                                        StepSummary)
from behavopt.optimizers.settings import RunSettings
from behavopt.tasks.types import Example

DATA = Path(__file__).parent / "data"


def chance(initial_dev, initial_test, best_dev, best_test):
    return AnswerChance(initial=SplitChance(initial_dev, initial_test), best=SplitChance(best_dev, best_test))


def result(initial_dev, best_dev, initial_test, best_test, answer_chance, best="c0004", steps=()):
    return OptimizationResult(
        method="abo", task="bbh:snarks", target="t", optimizer="o", seed=0, initial_prompt=Prompt.from_instruction("i"),
        best_prompt=Prompt.from_instruction("b"), initial_instruction="i", best_instruction="b",
        best_candidate=best, initial_dev_score=initial_dev, best_dev_score=best_dev, initial_test_score=initial_test,
        best_test_score=best_test, initial_test_ci95=(0, 1), best_test_ci95=(0, 1), test_size=50, dev_size=25,
        steps=list(steps), usage=RunUsage(), stop_reason="", run_dir="", settings=RunSettings(),
        answer_chance=answer_chance)


def test_the_snarks_case_a_label_shift_on_dev_but_not_on_test():
    # Measured shape: the instruction answers "(A)" always (dev chance = (A)'s gold share 0.28); the best prompt
    # answers mostly "(B)", whose dev chance rises by more than its dev gain.
    r = result(0.28, 0.56, 0.48, 0.50, chance(0.28, 0.48, 0.60, 0.47))
    assert r.label_shifts() == [("dev", 0.28, 0.32)]


def test_a_gain_beyond_chance_is_not_a_shift():
    r = result(0.40, 0.70, 0.40, 0.66, chance(0.40, 0.40, 0.45, 0.42))
    assert r.label_shifts() == []


def test_no_gain_no_chance_figures_or_initial_best_say_nothing():
    high = chance(0.2, 0.2, 0.9, 0.9)
    assert result(0.5, 0.5, 0.5, 0.4, high).label_shifts() == []
    assert result(0.2, 0.6, 0.2, 0.6, None).label_shifts() == []
    assert result(0.2, 0.6, 0.2, 0.6, high, best="c0000").label_shifts() == []


def figures(**shares):
    return BehaviorFigures(steps=("a", "b"), style="turns", demonstration=True, adherence_rate=1.0,
                           step_adherence=(1.0, 1.0), **shares)


def with_best(best_figures):
    step = StepSummary(1, [CandidateSummary("c0003", "c0000", "p", 0.5, None, "behavior"),
                           CandidateSummary("c0004", "c0000", "p", 0.6, None, "behavior", figures=best_figures)],
                       ["c0004"])
    return result(0.4, 0.6, 0.4, 0.5, None, steps=[step])


@pytest.mark.parametrize("answer, share, gold", [
    ("(B)", 0.94, 0.52),  # Qwen-0.5B on BBH snarks under a demonstration answering (B)
    ("11", 0.28, 0.02),  # Qwen-0.5B on BBH object_counting under a demonstration answering 11
])
def test_demo_copying_names_an_answer_given_far_more_often_than_it_is_right(answer, share, gold):
    best = figures(demo_answer=answer, demo_answer_share=share, demo_answer_gold_share=gold)
    assert with_best(best).demo_copying() == (answer, share, gold)


def test_demo_copying_leaves_answers_given_about_as_often_as_right_and_prompts_without_demos():
    near = figures(demo_answer="No", demo_answer_share=0.72, demo_answer_gold_share=0.64)
    assert with_best(near).demo_copying() is None
    assert with_best(figures()).demo_copying() is None
    assert with_best(None).demo_copying() is None
    assert result(0.4, 0.6, 0.4, 0.5, None).demo_copying() is None  # best candidate not in the steps


def test_a_result_round_trips_through_its_json():
    best = figures(demo_answer="(B)", demo_answer_share=0.94, demo_answer_gold_share=0.52,
                   failing_step_counts={"2": 3})
    r = with_best(best)
    r.answer_chance = chance(0.3, 0.4, 0.5, 0.6)
    data = json.loads(json.dumps(r.to_dict()))
    assert data["schema_version"] == 2 and data["settings"]["search"]["steps"] == 10
    back = OptimizationResult.from_dict(data)
    assert back == r and back.to_dict() == r.to_dict()


def test_a_version_0_result_from_a_real_abo_run_is_upgraded():
    # result.json of `optimize("demo:object-counting", "abo", SmolLM2, SmolLM2, preset="quick", abo_demo=False,
    # steps=2, ...)` as behavopt wrote it before schema versions: flat settings, ABO's figures flat in each candidate.
    data = json.loads((DATA / "result-v0-abo.json").read_text())
    assert "schema_version" not in data and "adherence_rate" in json.dumps(data)
    r = OptimizationResult.from_dict(data)
    assert r.settings.search.steps == data["settings"]["steps"] and r.settings.abo.demo is data["settings"]["abo_demo"]
    procedures = [c for s in r.steps for c in s.candidates if c.figures is not None]
    assert procedures and all(c.figures.steps and 0 <= c.figures.adherence_rate <= 1 for c in procedures)
    flat = {c["id"]: c for s in data["steps"] for c in s["candidates"]}
    for c in procedures:
        assert list(c.figures.step_adherence) == flat[c.id]["step_adherence"]
        assert not c.demos and c.figures.demonstration is False
    assert r.answer_chance is not None and r.answer_chance.best.test == data["answer_chance"]["best"]["test"]
    assert OptimizationResult.from_dict(r.to_dict()) == r
    # Version 1 held the prompts as text: they become prompt files showing what the target saw.
    assert r.best_instruction == data["best_prompt"] and r.initial_instruction == data["initial_prompt"]
    assert r.initial_prompt == Prompt.from_instruction(data["initial_prompt"])
    best = r.candidate(r.best_candidate)
    assert r.best_prompt.messages("X")[-1]["content"].endswith("X") and best is not None


def test_a_version_1_abo_result_with_a_demonstration_gets_the_prompt_the_target_saw():
    demos = (Message("user", "2 + 2"), Message("assistant", "Step 1: 4\nAnswer: 4"))
    best = CandidateSummary(id="c0003", parent="c0000", prompt="Do the steps.", dev_score=0.5, feedback=None,
                            origin="procedure", demos=demos, figures=figures())
    data = result(0.4, 0.5, 0.4, 0.5, None, best="c0003", steps=[StepSummary(1, [best], ["c0003"])]).to_dict()
    data.update(schema_version=1, initial_prompt="i", best_prompt="Do the steps.")
    del data["initial_instruction"], data["best_instruction"]
    r = OptimizationResult.from_dict(json.loads(json.dumps(data)))
    seen = Candidate(id="c0003", prompt="Do the steps.", parent=None, step=0, origin="", demos=demos,
                     style=best.figures.style).render(Example(id="", input="3 + 5", target=""))
    assert r.best_prompt.messages("3 + 5") == [{"role": m.role, "content": m.content} for m in seen]
    assert len(r.best_prompt.turns) == 2 and r.best_instruction == "Do the steps."


def test_a_version_0_promptagent_result_keeps_its_tree_iterations_as_steps():
    data = {**result(0.1, 0.2, 0.1, 0.2, None).to_dict(), "method": "promptagent", "initial_prompt": "i",
            "best_prompt": "b"}
    for key in ("schema_version", "initial_instruction", "best_instruction"):
        data.pop(key)
    data["settings"] = {"steps": 2, "mcts_iterations": 4, "mcts_depth": 3, "abo_demo": True}
    r = OptimizationResult.from_dict(data)
    assert r.settings.search.steps == 4 and r.settings.mcts.depth == 3


@pytest.mark.parametrize("version", [3, "one", None])
def test_unknown_result_versions_are_refused_in_one_line(tmp_path, version):
    path = tmp_path / "result.json"
    path.write_text(json.dumps({**result(0.1, 0.2, 0.1, 0.2, None).to_dict(), "schema_version": version}))
    with pytest.raises(SchemaError) as err:
        OptimizationResult.load(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_truncated_result_is_refused_in_one_line(tmp_path):
    path = tmp_path / "result.json"
    path.write_text(json.dumps(result(0.1, 0.2, 0.1, 0.2, None).to_dict())[:100])
    with pytest.raises(SchemaError, match="is not valid JSON"):
        OptimizationResult.load(path)
