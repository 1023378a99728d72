"""ABO with scripted LMs: procedure and demonstration building, demonstration checks, localisation plumbing,
refinement of the failing step, the --no-demo ablation, renderings, and result fields."""

import asyncio
import re

import pytest

from behavopt.core.schema import plain, typed
from behavopt.eval.evaluator import EvalRecord
from behavopt.lm.types import Message
from behavopt.optimizers.behavior import Procedure, copied_demo_answer, demo_answer_shares
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.events import (CandidateDropped, DemoCopied, DemoFromTarget, DemoRejected, FailingStep,
                                         ProcedureRejected, ReplyUnusable)
from behavopt.optimizers.run import summary_of
from tests.optimizers.helpers import build, kind_of, optimizer_answer, text_of


def test_initial_candidates_are_procedures_with_checked_demonstrations(tmp_path):
    h = build(tmp_path, "abo", steps=0)
    h.run()
    cands = list(h.state.candidates.values())
    assert cands[0].style == "instruction" and cands[0].origin == "task"
    behaviours = [c for c in cands if c.origin == "behavior"]
    assert len(behaviours) == 3
    for c in behaviours:
        assert c.style == "turns" and c.procedure.steps and len(c.demos) == 2
        user, assistant = c.demos
        assert (user.role, assistant.role) == ("user", "assistant")
        demo_ex = next(e for e in h.splits.train if e.id == c.procedure.demo_example)
        assert user.content == demo_ex.input and assistant.content.endswith(f"Answer: {demo_ex.target}")
        # Turns: the demonstration has the real turn's form (procedure + input), then the real input.
        msgs = c.render(h.splits.dev[0])
        assert [m.role for m in msgs] == ["user", "assistant", "user"]
        assert msgs[0].content.startswith(c.prompt) and msgs[2].content.endswith(h.splits.dev[0].input)
    procedure_requests = h.requests_of("abo_procedure")
    assert all("Correct answer:" in text_of(r) for r in procedure_requests)


def test_a_failing_demonstration_is_regenerated_then_the_candidate_dropped(tmp_path):
    def reply(request):
        if kind_of(request) == "abo_demo":
            return "Step 1: done\nAnswer: 999"  # misses step 2 and the gold answer, every time
        return optimizer_answer(request)

    h = build(tmp_path, "abo", steps=0, opt_reply=reply, abo_demo_tries=2)
    h.run()
    assert [c.origin for c in h.state.candidates.values()] == ["task"]
    rejected = h.events(DemoRejected)
    assert len(rejected) == 3 * 2 and {e.attempt for e in rejected} == {0, 1}
    assert len(h.events(CandidateDropped)) == 3
    assert [(e.purpose, e.reason) for e in h.events(ReplyUnusable)] == [("demonstration", e.reason) for e in rejected]


@pytest.mark.parametrize("repair", [False, True])
def test_a_refused_demonstration_is_sent_back_with_its_reason_only_with_demo_repair(tmp_path, repair):
    def reply(request):
        if kind_of(request) == "abo_demo" and request.sample == 0:
            return "Step 1: done\nStep 2: done\nAnswer: 999"  # follows the steps, misses the gold answer
        return optimizer_answer(request)

    h = build(tmp_path, "abo", steps=0, opt_reply=reply, abo_demo_repair=repair)
    h.run()
    rejected = h.events(DemoRejected)
    assert len(rejected) == 3 and all("not the gold answer" in e.reason for e in rejected)
    retries = [text_of(r) for r in h.requests_of("abo_demo") if r.sample == 1]
    assert len(retries) == 3
    assert all(("was refused because" in t and "Answer: 999" in t) is repair for t in retries)
    behaviours = [c for c in h.state.candidates.values() if c.origin == "behavior"]
    assert len(behaviours) == 3
    if repair:  # corrected on the example it was refused on
        assert [c.procedure.demo_example for c in behaviours] == [e.example for e in rejected]


def test_a_demonstration_too_long_for_the_target_budget_is_regenerated(tmp_path):
    def reply(request):
        worked = optimizer_answer(request)
        if kind_of(request) == "abo_demo" and request.sample == 0:  # first try: each step worked at length
            return worked.replace("done", "done, " + "with a long account of why " * 6)
        return worked

    h = build(tmp_path, "abo", steps=0, opt_reply=reply, target_max_tokens=40)  # room for a 30-token demonstration
    h.run()
    rejected = h.events(DemoRejected)
    assert len(rejected) == 3 and all("tokens long" in e.reason and "at most 30" in e.reason for e in rejected)
    behaviours = [c for c in h.state.candidates.values() if c.origin == "behavior"]
    assert len(behaviours) == 3 and all(len(c.demos[1].content) <= 30 * 4 for c in behaviours)


def test_a_procedure_that_replays_an_example_is_asked_again_then_dropped(tmp_path):
    def reply(request):
        if kind_of(request) == "abo_procedure":
            if request.sample == 0:  # first candidate, first try: replays a train example's input
                item = re.search(r"Input:\n(Item #\d{3}: which number is this\?)", text_of(request)).group(1)
                return f"Step 1: {item}\nStep 2: Write its number."
            if request.sample == 1:  # second candidate: checks against the answer it cannot see, every try
                return "Step 1: Read the item.\nStep 2: Compare with the correct answer."
            if request.sample == 4:
                return "Step 1: Compare with the correct answer.\nStep 2: Write it."
        return optimizer_answer(request)

    h = build(tmp_path, "abo", steps=0, opt_reply=reply, initial=4)  # 3 procedures (samples 0-2; retries 3-5)
    h.run()
    rejected = h.events(ProcedureRejected)
    assert [(e.attempt, e.reason.split(" ", 2)[2]) for e in rejected] == [
        (0, "copies an example's input instead of saying what to do with any input"),
        (0, "refers to the correct answer, which the model never sees")]
    dropped = h.events(CandidateDropped)
    assert [e.reason for e in dropped] == ["step 1 refers to the correct answer, which the model never sees"]
    samples = [r.sample for r in h.requests_of("abo_procedure")]
    assert samples == [0, 3, 1, 4, 2]  # candidate i retries with sample i + n
    assert len([c for c in h.state.candidates.values() if c.origin == "behavior"]) == 2


def test_no_demo_ablation_and_system_rendering(tmp_path):
    h = build(tmp_path / "a", "abo", steps=0, abo_demo=False)
    h.run()
    behaviours = [c for c in h.state.candidates.values() if c.origin == "behavior"]
    assert behaviours and all(not c.demos for c in behaviours) and not h.requests_of("abo_demo")

    h = build(tmp_path / "b", "abo", steps=0, abo_rendering="system")
    h.run()
    c = next(c for c in h.state.candidates.values() if c.origin == "behavior")
    msgs = c.render(h.splits.dev[0])
    assert [m.role for m in msgs] == ["system", "user"] and "Here is an example." in msgs[0].content
    assert msgs[1].content == h.splits.dev[0].input


def test_refinement_localises_the_failing_step_and_redoes_the_demonstration(tmp_path):
    h = build(tmp_path, "abo", steps=1, beam=2, expand=2, errors=3)
    h.run()
    localize = h.requests_of("abo_localize")
    assert localize, "errors must be localised"
    for r in localize:
        text = text_of(r)
        assert "The correct answer is:" in text and "Step 1 asks: Read the item" in text
        assert "The model labelled no step" in text  # the scripted target writes no steps
        shown = re.search(r"Input:\nItem #(\d{3})", text).group(1)
        assert f"x{shown}" in {e.id for e in h.splits.train}  # errors come from train only
    failing = h.events(FailingStep)
    assert failing and all(e.failing_step == 1 for e in failing)
    refine = h.requests_of("abo_refine")
    assert refine and all("It often goes wrong at Step 1: \"Read the item" in text_of(r) for r in refine)
    children = [c for c in h.state.candidates.values() if c.origin == "refine"]
    assert children
    for c in children:
        parent = h.state.candidates[c.parent]
        assert c.procedure.refined_step == 1 and c.feedback.startswith("Step 1 failed")
        # Step 1 is replaced by the two sub-steps of the reply; step 2 stays as it was.
        assert len(c.procedure.steps) == 3 and c.procedure.steps[0].startswith("Find the '#' sign")
        assert c.procedure.steps[2] == parent.procedure.steps[1]
        # The demonstration follows the refined procedure (3 steps) and prefers the parent's demo example.
        assert c.demos[1].content.count("Step ") == 3 and c.procedure.demo_example == parent.procedure.demo_example
    memo = h.state.method_notes["failing_steps"]
    assert all(v == {"1": sum(1 for e in failing if e.parent == k)} for k, v in memo.items())


def test_a_copied_demonstration_answer_gets_a_demonstration_with_another_answer(tmp_path):
    def copying_target(request):  # gives the worked example's answer, whatever the input
        demo = [m.content for m in request.messages if m.role == "assistant"]
        return demo[-1].splitlines()[-1] if demo else "Answer: 0"

    h = build(tmp_path, "abo", steps=1, beam=2, expand=2, errors=3, target_reply=copying_target)
    h.run()
    copied = h.events(DemoCopied)
    assert copied
    children = [c for c in h.state.candidates.values() if c.origin == "refine"]
    assert children
    for c in children:
        parent = h.state.candidates[c.parent]
        assert any(e.parent == parent.id and e.answer == parent.procedure.demo_answer for e in copied)
        assert c.procedure.demo_answer != parent.procedure.demo_answer


def test_copied_demo_answer_needs_most_errors_giving_it():
    def rec(answer):
        return EvalRecord(id="x", input="q", output=f"Answer: {answer}", answer=answer, target="5", correct=False,
                          error=None, latency_s=0.0, cached=False)

    assert copied_demo_answer("7", [rec("7"), rec("7"), rec("3")]) == "7"
    assert copied_demo_answer("7", [rec("7"), rec("3"), rec("4")]) is None  # one copy is chance
    assert copied_demo_answer("7", [rec("7")]) is None  # too few to tell
    assert copied_demo_answer(None, [rec("7"), rec("7")]) is None
    assert copied_demo_answer("(B)", [rec("(b)"), rec("(B)")]) == "(B)"


def test_candidate_figures_report_adherence_per_step(tmp_path):
    h = build(tmp_path, "abo", steps=1)
    h.run()
    c = next(c for c in h.state.candidates.values() if c.origin == "behavior")
    summary = summary_of(h.engine, c)
    figures = summary.figures
    assert figures is not None and figures.style == "turns" and figures.demonstration is True
    # The scripted target never writes steps: adherence is 0 for every step.
    assert figures.adherence_rate == 0.0 and figures.step_adherence == (0.0,) * len(c.procedure.steps)
    assert summary.demos[1].role == "assistant"
    # The demonstration's answer, and how often the target and the gold give it on dev.
    records = h.engine.scorer.records(c.id, h.splits.dev)
    assert figures.demo_answer == c.procedure.demo_answer == next(e.target for e in h.splits.train
                                                                  if e.id == c.procedure.demo_example)
    assert figures.demo_answer_gold_share == round(sum(r.target == figures.demo_answer for r in records)
                                                   / len(records), 4)


def test_demo_answer_shares_count_the_target_copying_the_demonstration():
    def rec(answer, target):
        return EvalRecord(id="x", input="i", output=f"Answer: {answer}", answer=answer, target=target,
                          correct=answer == target, error=None, latency_s=0.0, cached=False)
    records = [rec("(A)", "(B)"), rec("(A)", "(A)"), rec("(A)", "(B)"), rec(None, "(A)")]
    assert demo_answer_shares("(A)", records) == {"demo_answer": "(A)", "demo_answer_share": 0.75,
                                                  "demo_answer_gold_share": 0.5}
    assert demo_answer_shares(None, records) == {} and demo_answer_shares("(A)", []) == {}


def test_candidate_round_trip_keeps_style_demos_and_procedure():
    c = Candidate(id="c0001", prompt="P", parent="c0000", step=1, origin="refine",
                  demos=(Message("user", "in"), Message("assistant", "out")),
                  procedure=Procedure(steps=("a", "b"), demo_example="x1", demo_answer="3", refined_step=1),
                  style="system")
    assert typed(Candidate, plain(c), "test") == c
    assert c.fingerprint() != typed(Candidate, {**plain(c), "style": "turns"}, "test").fingerprint()


def test_best_prompt_file_shows_the_messages_the_target_sees(tmp_path):
    from behavopt.optimizers.run import render_best

    h = build(tmp_path, "abo", steps=0)
    h.run()
    c = next(c for c in h.state.candidates.values() if c.origin == "behavior")
    text = render_best(c)
    assert text.startswith("[user]\n" + c.prompt) and "[assistant]\n" + c.demos[1].content in text
    assert text.rstrip().endswith("{input}")
    assert render_best(h.state.initial) == h.state.initial.prompt + "\n"


def _as_json(request):
    """The scripted optimizer's text reply to `request` without its JSON instruction, written as the JSON its schema
    asks for, and checked against that schema."""
    import dataclasses
    import json

    import jsonschema

    from behavopt.optimizers.behavior import parse_procedure, parse_step_output

    schema = json.loads(request.json_schema)
    last = request.messages[-1]
    plain_text = dataclasses.replace(last, content=last.content.rpartition("\n\nReply with JSON only")[0])
    text = optimizer_answer(dataclasses.replace(request, messages=(*request.messages[:-1], plain_text),
                                                json_schema=None))
    kind = kind_of(request)
    if kind == "abo_localize":
        step, reason = re.search(r"Failing step: (\d+)\nReason: (.+)", text).groups()
        reply = {"failing_step": int(step), "reason": reason}
    elif kind == "abo_demo":
        parsed = parse_step_output(text)
        reply = {"steps": [t for _, t in parsed.steps], "answer": parsed.answer_line.split(": ", 1)[1]}
    else:
        reply = {"sub_steps" if kind == "abo_refine" else "steps": parse_procedure(text)}
    jsonschema.validate(reply, schema)
    return json.dumps(reply)


def test_json_replies_give_the_candidates_their_text_replies_give(tmp_path):
    text = build(tmp_path / "text", "abo", steps=1)
    text.run()
    structured = build(tmp_path / "json", "abo", steps=1, abo_replies="json", opt_reply=_as_json)
    structured.run()
    assert all(r.json_schema is None for r in text.optimizer.requests)
    asked = [r for r in structured.optimizer.requests if r.max_tokens > 8]  # the writing-speed probe aside
    assert asked and all(r.json_schema is not None for r in asked)
    assert {kind_of(r) for r in asked} == {"abo_procedure", "abo_demo", "abo_localize", "abo_refine"}

    def shown(h):
        return [(c.prompt, c.demos, c.procedure) for c in h.state.candidates.values()]

    assert shown(structured) == shown(text) and len(shown(text)) > 4


@pytest.mark.parametrize("purpose, bad_reply", [
    ("abo_localize", "The model made a mistake somewhere."),  # names no step
    ("abo_localize", "Failing step: 9\nReason: past the end."),  # not a step of the procedure
    ("abo_refine", "Just be more careful."),  # breaks nothing down
    ("abo_procedure", "Step 1: Do it."),  # one step: too few
])
def test_every_reply_that_cannot_be_used_is_counted_once_under_its_purpose(tmp_path, purpose, bad_reply):
    h = build(tmp_path, "abo", steps=1, opt_reply=lambda r: bad_reply if kind_of(r) == purpose else optimizer_answer(r))
    h.run()
    unusable = h.events(ReplyUnusable)
    asked = [r for r in h.optimizer.requests if kind_of(r) == purpose]
    assert asked and [e.purpose for e in unusable] == [purpose.removeprefix("abo_")] * len(asked)


def test_successes_show_the_failing_step_as_written_in_right_answers(tmp_path):
    def target(request):  # each step written out, the answer right for even items
        content = request.messages[-1].content
        n = int(re.search(r"#(\d+)", content.rpartition("\n\n")[2] or content).group(1))
        return f"Step 1: I read item {n}.\nStep 2: It is {n}.\nAnswer: {n if n % 2 == 0 else n + 1}"

    plain = build(tmp_path / "plain", "abo", steps=1, target_reply=target)
    plain.run()
    shown = build(tmp_path / "shown", "abo", steps=1, target_reply=target, abo_successes=2)
    shown.run()
    refine_plain, refine_shown = plain.requests_of("abo_refine"), shown.requests_of("abo_refine")
    assert refine_shown and len(refine_shown) == len(refine_plain)
    assert not any("got the answer right" in text_of(r) for r in refine_plain)
    for request in refine_shown:
        text = text_of(request)
        step = int(re.search(r"It often goes wrong at Step (\d+)", text).group(1))
        right = re.findall(r"^- (.+)$", text.split(f"it wrote this for Step {step}:")[1], re.M)
        assert len(right) == 2 and all(("I read item" if step == 1 else "It is") in w for w in right)
        assert all(int(re.search(r"(\d+)", w).group(1)) % 2 == 0 for w in right)  # from right answers only


def _wrong_demos(request):
    if kind_of(request) == "abo_demo":
        return "Step 1: done\nAnswer: 999"  # misses step 2 and the gold answer, every time
    return optimizer_answer(request)


def _stepwise_target(request):
    """Each step written out; right on even items, and only when no demonstration is shown (a bare procedure)."""
    content = request.messages[-1].content
    n = int(re.search(r"#(\d+)", content.rpartition("\n\n")[2] or content).group(1))
    right = n % 2 == 0 and len(request.messages) == 1
    return f"Step 1: I read item {n}.\nStep 2: It is {n}.\nAnswer: {n if right else n + 1}"


def test_target_demos_take_the_targets_own_right_output_when_the_optimizer_has_none(tmp_path):
    off = build(tmp_path / "off", "abo", steps=0, opt_reply=_wrong_demos, target_reply=_stepwise_target)
    off.run()
    assert [c.origin for c in off.state.candidates.values()] == ["task"] and not off.events(DemoFromTarget)

    h = build(tmp_path / "on", "abo", steps=0, opt_reply=_wrong_demos, target_reply=_stepwise_target,
              abo_target_demos=4)
    h.run()
    behaviours = [c for c in h.state.candidates.values() if c.origin == "behavior"]
    taken = h.events(DemoFromTarget)
    assert len(taken) == 3 and all(len(e.tried) == 4 for e in taken)
    train = {e.id: e for e in h.splits.train}
    assert all(set(e.tried) <= set(train) for e in taken)  # train examples only
    for event in taken:
        if event.example is None:  # none of the tried examples was even
            assert all(int(train[i].target) % 2 for i in event.tried)
            continue
        first_even = next(i for i in event.tried if int(train[i].target) % 2 == 0)
        assert event.example == first_even
    assert len(behaviours) == sum(e.example is not None for e in taken) > 0
    for c in behaviours:  # the demonstration is the target's own output, cleaned, ending in the gold answer
        example = train[c.procedure.demo_example]
        assert c.demos[1].content == (f"Step 1: I read item {example.target}.\nStep 2: It is {example.target}.\n"
                                      f"Answer: {example.target}")
    # the attempts are no candidate: no records or score kept for them; each reached the target once, bare
    assert h.rundir.load_records("target-demo") == [] and "target-demo" not in h.state.dev_scores
    bare = [r for r in h.target.requests if len(r.messages) == 1 and "Follow this procedure" in r.messages[0].content]
    assert len(bare) == 3 * 4


def test_target_attempts_refuse_examples_outside_train(tmp_path):
    h = build(tmp_path, "abo", steps=0)
    ctx = h.engine.context(0, "k")
    with pytest.raises(ValueError, match="train examples only"):
        asyncio.run(ctx.target_attempts(Candidate("x", "p", None, 0, "t"), h.splits.dev[:1]))
