import re

import pytest

from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.engine.pseudo_errors import PseudoError, make_pseudo_errors
from behavopt.tasks.answers import extractor_for, metric_for
from behavopt.tasks.types import AnswerType, Example, Task

LETTERS = ("(A)", "(B)", "(C)", "(D)", "(E)")


def make_task(answer_type: AnswerType, examples: list[Example]) -> Task:
    return Task(name=f"t-{answer_type.value}", examples=examples, instruction="Solve it.", answer_type=answer_type,
                extract=extractor_for(answer_type), metric=metric_for(answer_type))


def correct_records(task: Task, outputs: dict[str, str] | None = None) -> list[EvalRecord]:
    """A record per example, answered right by a target that reasons and ends with 'Answer: <gold>'."""
    out = []
    for e in task.examples:
        output = (outputs or {}).get(e.id, f"Let me think about {e.id}.\nAnswer: {e.target}")
        answer, correct = task.is_correct(output, e)
        assert correct, (output, e)
        out.append(EvalRecord(e.id, e.input, output, answer, e.target, correct, None, 0.1, False))
    return out


def binary_task() -> Task:
    opts = (("Yes", "Yes"), ("No", "No"))
    return make_task(AnswerType.CHOICE, [Example(f"b{i}", f"Is {i} even?", "Yes" if i % 2 == 0 else "No",
                                                 options=opts) for i in range(6)])


def choice_task(n: int = 20) -> Task:
    opts = tuple((label, f"option text {label}") for label in LETTERS)
    return make_task(AnswerType.CHOICE, [Example(f"c{i}", f"Question {i}", LETTERS[i % 5], options=opts)
                                         for i in range(n)])


def number_task(targets: list[str]) -> Task:
    return make_task(AnswerType.NUMBER, [Example(f"n{i}", f"Compute {i}", t) for i, t in enumerate(targets)])


def text_task(targets: list[str], answer_type: AnswerType = AnswerType.TEXT, answers=None) -> Task:
    answers = answers or {}
    return make_task(answer_type, [Example(f"x{i}", f"Sort words {i}", t, answers=answers.get(i, ()))
                                   for i, t in enumerate(targets)])


def check_wrong(task: Task, pes: list[PseudoError]) -> None:
    examples = {e.id: e for e in task.examples}
    for pe in pes:
        e = examples[pe.id]
        r = pe.record
        assert r.correct is False and r.error is None
        assert r.answer == pe.fake_answer
        assert not task.metric(r.answer, e)
        # The task's own extractor reads the fake back from the rewritten output, and it scores wrong.
        extracted, correct = task.is_correct(r.output, e)
        assert not correct
        assert task.metric(extracted, Example(e.id, e.input, r.answer, options=e.options))
        assert pe.original_answer is not None and task.metric(pe.original_answer, e)


def test_binary_gives_the_other_label():
    task = binary_task()
    pes = make_pseudo_errors(correct_records(task), task, seed=1)
    assert len(pes) == 6
    for pe, e in zip(pes, task.examples):
        assert pe.kind == "binary"
        assert pe.fake_answer == ("No" if e.target == "Yes" else "Yes")
        assert pe.record.output == f"Answer: {pe.fake_answer}"
        assert pe.output_mode == "answer_only"
        assert pe.original_output.startswith("Let me think")
        assert pe.record.target == e.target and pe.record.input == e.input
    check_wrong(task, pes)


def test_multiple_choice_picks_another_label_deterministically():
    task = choice_task()
    records = correct_records(task)
    pes = make_pseudo_errors(records, task, seed=7)
    assert all(pe.kind == "choice" for pe in pes)
    for pe, e in zip(pes, task.examples):
        assert pe.fake_answer in LETTERS and pe.fake_answer != e.target
    check_wrong(task, pes)
    # Deterministic for a seed; another seed changes some fakes; several labels are used.
    again = make_pseudo_errors(records, task, seed=7)
    assert [p.fake_answer for p in again] == [p.fake_answer for p in pes]
    other = make_pseudo_errors(records, task, seed=8)
    assert [p.fake_answer for p in other] != [p.fake_answer for p in pes]
    assert len({p.fake_answer for p in pes}) >= 3
    # The input records are untouched.
    assert all(r.correct for r in records)


def test_numbers_are_near_the_gold_never_equal_and_integers_stay_integers():
    targets = ["18", "0", "1,234", "-4", "7", "100", "3"]
    task = number_task(targets)
    pes = make_pseudo_errors(correct_records(task), task, seed=3)
    golds = [18, 0, 1234, -4, 7, 100, 3]
    for pe, gold in zip(pes, golds):
        assert pe.kind == "number"
        assert re.fullmatch(r"-?\d+", pe.fake_answer), pe.fake_answer
        diff = int(pe.fake_answer) - gold
        assert 1 <= abs(diff) <= 3
    # A non-negative gold never gets a negative fake (0 can only go up).
    assert int(pes[1].fake_answer) > 0
    check_wrong(task, pes)
    # Over many seeds every offset in ±1..3 shows up for 18, and 18 itself never does.
    seen = {make_pseudo_errors(correct_records(number_task(["18"])), number_task(["18"]), seed=s)[0].fake_answer
            for s in range(60)}
    assert seen == {"15", "16", "17", "19", "20", "21"}


def test_decimal_numbers_move_in_their_last_place():
    task = number_task(["2.5", "0.25", "12.0"])
    pes = make_pseudo_errors(correct_records(task), task, seed=0)
    a, b, c = (p.fake_answer for p in pes)
    assert re.fullmatch(r"\d\.\d", a) and a != "2.5" and abs(float(a) - 2.5) <= 0.3 + 1e-9
    assert re.fullmatch(r"0\.\d\d", b) and b != "0.25" and abs(float(b) - 0.25) <= 0.03 + 1e-9
    # 12.0 is an integer value: its fake is an integer too.
    assert re.fullmatch(r"\d+", c) and c != "12"
    check_wrong(task, pes)


def test_max_offset_one():
    task = number_task(["10"])
    fakes = {make_pseudo_errors(correct_records(task), task, seed=s, max_offset=1)[0].fake_answer for s in range(20)}
    assert fakes == {"9", "11"}


def test_free_text_uses_another_examples_gold():
    targets = ["apple banana", "cherry", "apple banana", "date fig", "grape"]
    task = text_task(targets)
    pes = make_pseudo_errors(correct_records(task), task, seed=2)
    for pe, e in zip(pes, task.examples):
        assert pe.kind == "text"
        assert pe.fake_answer in targets and pe.fake_answer != e.target
    check_wrong(task, pes)
    assert [p.fake_answer for p in make_pseudo_errors(correct_records(task), task, seed=2)] == \
        [p.fake_answer for p in pes]


def test_any_of_fake_avoids_every_acceptable_answer():
    # Example 0 accepts "cherry" too, so the only wrong gold left for it is "date".
    task = text_task(["apple", "cherry", "date"], AnswerType.ANY_OF, answers={0: ("apple", "cherry")})
    for seed in range(10):
        pe = make_pseudo_errors(correct_records(task), task, seed=seed)[0]
        assert pe.fake_answer == "date"


def test_free_text_without_another_gold_is_an_error():
    task = text_task(["same", "same", "Same."])
    with pytest.raises(ValueError, match="no possible wrong answer"):
        make_pseudo_errors(correct_records(task), task)


def test_n_selects_a_seeded_subset_in_input_order_with_stable_fakes():
    task = choice_task()
    records = correct_records(task)
    all_pes = {p.id: p.fake_answer for p in make_pseudo_errors(records, task, seed=5)}
    some = make_pseudo_errors(records, task, n=4, seed=5)
    assert len(some) == 4
    ids = [p.id for p in some]
    order = [r.id for r in records]
    assert ids == sorted(ids, key=order.index)
    assert [p.id for p in make_pseudo_errors(records, task, n=4, seed=5)] == ids
    # A record's fake does not depend on which others were selected.
    assert all(all_pes[p.id] == p.fake_answer for p in some)
    assert make_pseudo_errors(records, task, n=0, seed=5) == []


def test_not_enough_correct_records_is_a_clear_error():
    task = binary_task()
    records = correct_records(task)
    wrong = [EvalRecord(r.id, r.input, "Answer: ?", "?", r.target, False, None, 0.1, False) for r in records]
    failed = [EvalRecord(r.id, r.input, None, None, r.target, False, "LMError: x", 0.1, False) for r in records]
    with pytest.raises(ValueError, match="only 2 correctly answered"):
        make_pseudo_errors(records[:2] + wrong[2:], task, n=3)
    with pytest.raises(ValueError, match="0 correct of 6"):
        make_pseudo_errors(wrong, task)
    with pytest.raises(ValueError):
        make_pseudo_errors(failed, task)
    # Only correct records are used.
    assert [p.id for p in make_pseudo_errors(records[:2] + wrong[2:], task)] == ["b0", "b1"]


def test_unknown_example_and_bad_arguments():
    task = binary_task()
    stray = EvalRecord("zz", "?", "Answer: Yes", "Yes", "Yes", True, None, 0.0, False)
    with pytest.raises(ValueError, match="not in task"):
        make_pseudo_errors([stray], task)
    with pytest.raises(ValueError):
        make_pseudo_errors(correct_records(task), task, output_mode="keep")
    with pytest.raises(ValueError):
        make_pseudo_errors(correct_records(task), task, max_offset=0)


def test_last_answer_mode_keeps_the_reasoning():
    task = choice_task(5)
    outputs = {
        "c0": "The options differ.\n**Answer:** (A)",
        "c1": "Thinking...\nThe answer is (B).",
        "c2": "It must be (C)",  # no answer line: one is appended
    }
    records = correct_records(task, outputs)
    pes = make_pseudo_errors(records, task, seed=0, output_mode="last_answer")
    by_id = {p.id: p for p in pes}
    fake0, fake1, fake2 = (by_id[i].fake_answer for i in ("c0", "c1", "c2"))
    assert by_id["c0"].record.output == f"The options differ.\n**Answer:** {fake0}"
    assert by_id["c1"].record.output == f"Thinking...\nThe answer is {fake1}"
    assert by_id["c2"].record.output == f"It must be (C)\nAnswer: {fake2}"
    assert all(p.output_mode == "last_answer" for p in pes)
    check_wrong(task, pes)


def test_last_answer_mode_falls_back_when_the_extractor_would_read_the_gold():
    # "#### 18" after the answer line is read as the final answer, so substituting the answer line is not enough.
    task = number_task(["18"])
    records = correct_records(task, {"n0": "3 * 6 = 18\nAnswer: 18\n#### 18"})
    pe = make_pseudo_errors(records, task, output_mode="last_answer")[0]
    assert pe.output_mode == "answer_only"
    assert pe.record.output == f"Answer: {pe.fake_answer}"
    check_wrong(task, [pe])
