"""The target's answer spread under a study's best prompts, and the caveat when it is nearly one answer."""

from dataclasses import replace

from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.rundir import RunDir
from behavopt.study.answers import ONE_ANSWER_SHARE, AnswerSpread, RunAnswers, answer_spread_of
from tests.optimizers.test_result import chance as answer_chance
from tests.optimizers.test_result import result


def write_run(path, answers, golds, chance=None, finished=True):
    """A minimal run directory: the best candidate c0003's test records (and one dev record that must not count)."""
    rundir = RunDir(path)
    rundir.prepare(RunConfig(task="t", method="apo", target="t", optimizer="o"), resume=False)
    rundir.save_checkpoint(SearchState(step=1))
    records = [("test", EvalRecord(f"t{i}", "q", f"Answer: {a}", a, g, a == g, None, 0.1, False))
               for i, (a, g) in enumerate(zip(answers, golds))]
    records.append(("dev", replace(records[0][1], id="d0", answer="Maybe")))
    rundir.save_records("c0003", records)
    if finished:
        score = sum(a == g for a, g in zip(answers, golds)) / len(answers)
        best = result(0.5, 0.5, 0.5, score, None if chance is None else answer_chance(0, 0, 0, chance), best="c0003")
        rundir.save_result(best, "prompt\n")


def test_one_answer_to_everything_gets_the_caveat(tmp_path):
    golds = ["No"] * 6 + ["Yes"] * 4
    for name in ("a-s0", "a-s1"):
        write_run(tmp_path / name, ["No"] * 10, golds, chance=0.6)
    write_run(tmp_path / "b-s0", ["No"] * 8 + ["Yes"] * 2, golds, chance=0.56)
    spread = answer_spread_of([tmp_path / "a-s0", tmp_path / "a-s1", tmp_path / "a-s0", tmp_path / "b-s0",
                               tmp_path / "missing"])
    assert [r.share for r in spread.runs] == [1.0, 1.0, 0.8]  # a-s0 counted once, the missing one left out
    assert spread.runs[0].commonest == "No" and spread.runs[0].kappa == 0.0
    # b-s0 gets 8 of 10 right (6 No and 2 Yes): kappa from that accuracy and its answer-frequency chance.
    b = spread.runs[2]
    assert b.kappa == round((0.8 - 0.56) / (1 - 0.56), 4)
    assert spread.one_answer_runs == 2 and spread.mostly_one_answer
    text = spread.text()
    assert "'No' in 3 of them" in text and "2 of 3 runs give one answer" in text and "Caveat" in text
    assert spread.to_dict()["mostly_one_answer"] is True and spread.to_dict()["text"] == text


def test_varied_answers_get_no_caveat_and_unfinished_runs_are_left_out(tmp_path):
    golds = ["1", "2", "3", "4", "5"] * 2
    write_run(tmp_path / "a-s0", golds, golds)  # no answer_chance in result.json: no kappa
    write_run(tmp_path / "a-s1", ["1"] * 10, golds, finished=False)
    spread = answer_spread_of([tmp_path / "a-s0", tmp_path / "a-s1"])
    assert len(spread.runs) == 1 and spread.runs[0].share == 0.2 and spread.runs[0].kappa is None
    assert not spread.mostly_one_answer and "Caveat" not in spread.text() and "kappa" not in spread.text()


def test_half_the_runs_on_one_answer_is_not_mostly():
    runs = (RunAnswers("a", "No", ONE_ANSWER_SHARE, 0.0), RunAnswers("b", "No", 0.6, 0.3))
    assert AnswerSpread(runs).one_answer_runs == 1 and not AnswerSpread(runs).mostly_one_answer
    assert AnswerSpread(()).text() == "no finished runs" and not AnswerSpread(()).mostly_one_answer


def test_unparsed_answers_are_named_as_such():
    runs = (RunAnswers("a", None, 1.0, None), RunAnswers("b", None, 0.95, None))
    assert "the commonest test answer is no parsed answer in 2 of them" in AnswerSpread(runs).text()
