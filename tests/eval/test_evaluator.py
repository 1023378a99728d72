import asyncio

import pytest

from behavopt.eval import EvalAborted, EvalSettings, Evaluator, InstructionPrompt, wilson_interval
from behavopt.eval.evaluator import NO_ANSWER
from behavopt.lm.client import LM
from behavopt.lm.errors import LMContextOverflow, LMTransientError
from behavopt.lm.retry import RetryPolicy
from behavopt.lm.types import Usage
from behavopt.tasks.types import AnswerType, Example, Task

from tests.lm.scripted import ScriptedBackend


def echo_task(n: int = 10) -> Task:
    examples = [Example(id=f"e{i}", input=f"say {i}", target=str(i)) for i in range(n)]

    def extract(output: str, ex: Example):
        return output.split("Answer:")[-1].strip() if "Answer:" in output else None

    return Task(name="echo", examples=examples, instruction="Repeat the number.", answer_type=AnswerType.TEXT,
                extract=extract, metric=lambda a, ex: a == ex.target)


def run(evaluator, examples, **kw):
    return asyncio.run(evaluator.evaluate(InstructionPrompt("Repeat the number."), examples, **kw))


def test_records_and_summary():
    def reply(req):
        n = int(req.messages[-1].content.rsplit(" ", 1)[-1])
        return f"Answer: {n}" if n % 3 else ("nothing" if n == 3 else f"Answer: {n + 1}")

    backend = ScriptedBackend(reply)
    task = echo_task(10)
    ev = Evaluator(task, LM(backend, role="target", usage=Usage()))
    seen = []
    result = run(ev, task.examples, split="test", on_record=seen.append)
    by_id = {r.id: r for r in result.records}
    assert [r.id for r in result.records] == [e.id for e in task.examples] and len(seen) == 10
    assert by_id["e1"].correct and by_id["e1"].answer == "1" and by_id["e1"].error is None
    assert not by_id["e3"].correct and by_id["e3"].error == NO_ANSWER and by_id["e3"].output == "nothing"
    assert not by_id["e6"].correct and by_id["e6"].answer == "7"
    s = result.summary
    assert (s.n, s.correct, s.accuracy) == (10, 6, 0.6) and s.errors == 1 and s.lm_errors == 0
    assert s.ci95 == wilson_interval(6, 10) and s.usage["calls"] == 10
    # Answers 1 1 2 4 5 7 7 8 10 and one unparsed: 8 of them are the gold of one example of ten ("10" of none).
    assert s.answer_chance == pytest.approx(8 / 100)
    # The instruction comes first, then the input, in one user turn.
    assert backend.requests[0].messages[0].content.startswith("Repeat the number.\n\nsay ")


def test_one_failing_example_is_recorded_not_fatal():
    backend = ScriptedBackend(lambda r: "Answer: 2",
                              fail=lambda r: LMContextOverflow("too long") if r.messages[-1].content.endswith("say 1")
                              else None)
    task = echo_task(5)
    result = run(Evaluator(task, LM(backend, role="target", usage=Usage())), task.examples)
    bad = result.records[1]
    assert bad.output is None and not bad.correct and bad.error.startswith("LMContextOverflow")
    assert result.summary.lm_errors == 1 and result.summary.correct == 1


def test_run_stops_naming_the_cause_when_most_examples_fail():
    backend = ScriptedBackend(fail=lambda r: LMTransientError("connection refused"))
    task = echo_task(30)
    lm = LM(backend, role="target", usage=Usage(), retry=RetryPolicy(max_retries=1, base_delay_s=0.001))
    with pytest.raises(EvalAborted, match="failed in the LM layer.*connection refused"):
        run(Evaluator(task, lm, EvalSettings(min_finished=5)), task.examples)


def test_wilson_interval_edges():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(10, 10)
    assert hi == pytest.approx(1.0) and 0.6 < lo < 0.8
    lo, hi = wilson_interval(5, 10)
    assert lo < 0.5 < hi and abs((0.5 - lo) - (hi - 0.5)) < 1e-9


def flaky_lm(failing: set[str], *, retries: int = 1) -> tuple[LM, ScriptedBackend]:
    """Answers every example right, except those whose input is in `failing`: the server gives up on them."""
    backend = ScriptedBackend(lambda r: "Answer: " + r.messages[-1].content.rsplit(" ", 1)[-1],
                              fail=lambda r: LMTransientError("503 from the server")
                              if r.messages[-1].content.split("\n\n")[-1] in failing else None)
    return LM(backend, role="target", usage=Usage(),
              retry=RetryPolicy(max_retries=retries, base_delay_s=0.001)), backend


def test_an_example_the_server_did_not_answer_is_missing_not_wrong():
    task = echo_task(10)
    lm, _ = flaky_lm({"say 3"})
    result = run(Evaluator(task, lm), task.examples)
    missing = [r for r in result.records if r.missing]
    assert [r.id for r in missing] == ["e3"] and "503" in missing[0].error
    s = result.summary
    assert (s.n, s.correct, s.accuracy, s.missing, s.complete) == (9, 9, 1.0, 1, False)  # 9/9, not 9/10
    assert s.to_dict()["complete"] is False and s.lm_errors == 1


def test_an_input_longer_than_the_context_is_that_examples_own_error():
    backend = ScriptedBackend(lambda r: "Answer: 2", fail=lambda r: LMContextOverflow("too long")
                              if r.messages[-1].content.endswith("say 1") else None)
    task = echo_task(3)
    result = run(Evaluator(task, LM(backend, role="target", usage=Usage())), task.examples)
    assert not result.records[1].missing and result.summary.complete
    assert (result.summary.n, result.summary.correct) == (3, 1)  # scored 0, as an answer that failed


@pytest.mark.parametrize("n", [1, 2, 4])
def test_an_evaluation_with_every_example_missing_stops_naming_the_cause_whatever_its_size(n):
    task = echo_task(n)
    lm, _ = flaky_lm({f"say {i}" for i in range(n)})
    with pytest.raises(EvalAborted, match=f"all {n} examples failed in the LM layer.*503 from the server"):
        run(Evaluator(task, lm), task.examples)


def test_figures_that_must_be_whole_refuse_an_incomplete_result():
    task = echo_task(6)
    lm, _ = flaky_lm({"say 2"})
    result = run(Evaluator(task, lm), task.examples)
    with pytest.raises(EvalAborted, match="1 of 6 examples got no answer.*503 from the server"):
        result.complete()
    healthy, _ = flaky_lm(set())
    whole = run(Evaluator(task, healthy), task.examples)
    assert whole.complete() is whole
