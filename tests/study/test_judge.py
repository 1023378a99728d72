import asyncio
import json
from pathlib import Path

import pytest

from behavopt.core.text import template
from behavopt.lm.client import LM
from behavopt.lm.errors import LMError
from behavopt.lm.types import ChatRequest, Usage
from behavopt.study.judge import (AdherenceCase, AdherenceJudge, AdherenceVerdict, JudgeBatch, agreement, parse_verdict,
                                  read_reply, truncate_output)

from tests.lm.scripted import ScriptedBackend

CASES_PATH = Path(__file__).parent / "data" / "adherence_cases.json"
FIELDS = ("id", "requested", "prompt", "input", "output", "why")
JUDGE_MODEL = "qwen2.5-coder-1.5b"


def load_cases() -> list[dict]:
    return json.loads(CASES_PATH.read_text("utf-8"))


def as_case(d: dict) -> AdherenceCase:
    return AdherenceCase(requested=d["requested"], prompt=d["prompt"], input=d["input"], output=d["output"], id=d["id"])


def make_judge(reply=lambda r: "Looks right.\nVerdict: FOLLOWED", fail=None,
               **kw) -> tuple[AdherenceJudge, ScriptedBackend]:
    backend = ScriptedBackend(reply, fail=fail)
    return AdherenceJudge(LM(backend, role="optimizer", usage=Usage()), **kw), backend


CASE = AdherenceCase(requested="Write 'Step 1:' labels, not {input}", prompt="Solve it. Label steps {x}.", input="2 + 3 * 4 =",
                     output="Step 1: 3 * 4 = 12\nStep 2: 2 + 12 = 14\nAnswer: 14", id="c1")


# --- parsing ---

@pytest.mark.parametrize("text, expected", [
    ("The answer lists steps.\nVerdict: FOLLOWED", True),
    ("The answer has no steps.\nVerdict: NOT FOLLOWED", False),
    ("Verdict: **NOT FOLLOWED**", False),
    ("**Verdict:** FOLLOWED", True),
    ("**Verdict: Not followed.**", False),
    ("verdict: followed", True),
    ("Verdict: NOT_FOLLOWED", False),
    ("Verdict: NOT-FOLLOWED", False),
    ("Verdict: yes", True),
    ("Verdict: No, it ignores the request.", False),
    ("So the verdict is NOT FOLLOWED.", False),
    ("It did it.\n\nFOLLOWED", True),
    ("It did not.\n**NOT FOLLOWED**", False),
    ("Verdict:\nNOT FOLLOWED", False),
    # The last verdict wins: a model that reconsiders ends with its choice.
    ("Verdict: FOLLOWED\nWait, there are no labels.\nVerdict: NOT FOLLOWED", False),
    ("Verdict: NOT FOLLOWED\nOn second thought it does.\nVerdict: FOLLOWED", True),
])
def test_parse_verdict(text, expected):
    assert parse_verdict(text) is expected


@pytest.mark.parametrize("text", [
    "",
    "The model followed the instruction.",  # prose, no verdict line
    "The answer does not follow the request.",
    "Verdict: FOLLOWED or NOT FOLLOWED",  # the template's choices echoed back
    "Verdict: FOLLOWED / NOT FOLLOWED",
    "Verdict: none",
    "Verdict: maybe",
    "I am not sure.",
])
def test_unreadable_reply_gives_none(text):
    assert parse_verdict(text) is None


def test_not_followed_is_never_read_as_followed():
    for text in ("NOT FOLLOWED", "Verdict: NOT FOLLOWED", "verdict: not followed", "Verdict: Not Followed!"):
        assert parse_verdict(text) is False, text


def test_read_reply_splits_reason_from_verdict():
    v = read_reply("It uses Step labels.\nIt computes each step.\nVerdict: FOLLOWED\n")
    assert v == AdherenceVerdict(True, "It uses Step labels.\nIt computes each step.",
                                 "It uses Step labels.\nIt computes each step.\nVerdict: FOLLOWED\n")
    assert read_reply("No labels are used, so Verdict: NOT FOLLOWED").reason == "No labels are used, so"
    assert read_reply("It did it.\nFOLLOWED").reason == "It did it."
    unread = read_reply("  I cannot tell.  ")
    assert unread.followed is None and unread.reason == "I cannot tell." and unread.raw == "  I cannot tell.  "


# --- the prompt ---

def test_template_has_the_rubric_and_every_slot():
    text = template("behavopt.study", "adherence_judge")
    for slot in ("{requested}", "{input}", "{output}"):
        assert text.count(slot) == 1, slot
    # The child prompt is not shown: with it, the 1.5B judge confused the instruction with the answer (0.57 vs 0.60).
    assert "{prompt}" not in text
    assert "Verdict: FOLLOWED or NOT FOLLOWED" in text and "Evidence:" in text
    assert "Do NOT check whether the final answer is correct" in text
    assert "only says it will do it without doing it" in text and "really uses that format" in text


def test_prompt_sent_holds_the_rubric_and_the_case():
    judge, backend = make_judge(max_tokens=99, seed=7)
    verdict = asyncio.run(judge.judge(CASE))
    assert verdict.followed is True and verdict.reason == "Looks right."
    [req] = backend.requests
    assert (req.max_tokens, req.temperature, req.seed) == (99, 0.0, 7)
    [msg] = req.messages
    assert msg.role == "user"
    for value in (CASE.requested, CASE.input, CASE.output):
        assert value in msg.content
    assert "Rules:" in msg.content and msg.content.rstrip().endswith("Verdict: FOLLOWED or NOT FOLLOWED")
    # A slot name inside a case value is left as it is (one-pass filling), and no slot stays unfilled.
    assert "labels, not {input}" in msg.content and "{output}" not in msg.content


def test_long_outputs_keep_their_end():
    assert truncate_output("short", 10) == "short"
    assert truncate_output("a" * 5 + "b" * 10, 10) == "..." + "b" * 10
    long = AdherenceCase(requested="r", prompt="p", input="i", output="x" * 5000 + "Answer: 7")
    judge, backend = make_judge()
    asyncio.run(judge.judge(long))
    content = backend.requests[0].messages[0].content
    assert "..." + "x" * (1500 - len("Answer: 7")) + "Answer: 7" in content
    assert "x" * 1500 not in content


# --- failures ---

def test_lm_error_propagates_from_judge():
    judge, _ = make_judge(fail=lambda r: LMError("model down"))
    with pytest.raises(LMError, match="model down"):
        asyncio.run(judge.judge(CASE))


def test_judge_many_keeps_order_and_records_failures():
    cases = [AdherenceCase(requested="r", prompt="p", input=f"item {i}", output="o", id=str(i)) for i in range(5)]

    def reply(r: ChatRequest) -> str:
        text = r.messages[0].content
        return "Verdict: FOLLOWED" if "item 0" in text else "hmm" if "item 4" in text else "Verdict: NOT FOLLOWED"

    def fail(r: ChatRequest):
        return LMError("boom") if "item 2" in r.messages[0].content else None

    judge, backend = make_judge(reply, fail)
    batch = asyncio.run(judge.judge_many(cases, concurrency=2))
    assert isinstance(batch, JudgeBatch)
    assert [None if v is None else v.followed for v in batch.verdicts] == [True, False, None, False, None]
    assert batch.verdicts[2] is None and batch.verdicts[4] is not None  # failed call vs. unreadable reply
    [(index, error)] = batch.errors
    assert index == 2 and str(error) == "boom"
    assert len(backend.requests) == 5


def test_judge_many_rejects_bad_concurrency():
    judge, _ = make_judge()
    with pytest.raises(ValueError, match="concurrency"):
        asyncio.run(judge.judge_many([CASE], concurrency=0))


# --- agreement ---

def test_agreement_counts():
    v = lambda f: AdherenceVerdict(f, "", "")  # noqa: E731
    verdicts = [v(True), v(True), v(False), v(False), v(True), v(None), None, True]
    labels = [True, False, False, True, True, True, False, True]
    a = agreement(verdicts, labels)
    assert a == dict(n=8, agree=4, unparsed=1, failed=1, tp=3, tn=1, fp=1, fn=1, accuracy=0.5)


def test_agreement_edge_cases():
    assert agreement([], [])["accuracy"] is None
    with pytest.raises(ValueError, match="pair up"):
        agreement([True], [True, False])


# --- the hand-labelled fixture ---

def test_fixture_is_thirty_well_formed_cases():
    cases = load_cases()
    assert len(cases) == 30
    assert len({c["id"] for c in cases}) == 30
    for c in cases:
        assert set(c) == {*FIELDS, "label"}, c["id"]
        assert all(isinstance(c[f], str) and c[f].strip() for f in FIELDS), c["id"]
        assert isinstance(c["label"], bool), c["id"]
    labels = [c["label"] for c in cases]
    assert labels.count(True) >= 12 and labels.count(False) >= 12


# --- the real judge against the hand labels ---

@pytest.mark.e2e
def test_judge_agrees_with_hand_labels():
    """The 1.5B judge against the 30 hand labels. Runs only where the model file is already pulled (several minutes
    on CPU); it never downloads it."""
    from behavopt.lm import local_models
    from behavopt.lm.client import ModelPool

    model = local_models.get_model(JUDGE_MODEL)
    if not local_models.is_pulled(model):
        pytest.skip(f"{JUDGE_MODEL} is not pulled at {model.path()}: run `behavopt models pull {JUDGE_MODEL}` first")
    cases = load_cases()

    async def main() -> JudgeBatch:
        async with ModelPool(cache=None, threads=2) as pool:
            judge = AdherenceJudge(pool.lm(f"local:{JUDGE_MODEL}", "optimizer"))
            return await judge.judge_many([as_case(c) for c in cases])

    batch = asyncio.run(main())
    assert not batch.errors, batch.errors
    a = agreement(batch.verdicts, [c["label"] for c in cases])
    wrong = [(c["id"], c["label"], v.followed if v else None) for c, v in zip(cases, batch.verdicts)
             if v is None or v.followed is not c["label"]]
    print(f"adherence judge agreement: {a}\ndisagreements (id, label, verdict): {wrong}")
    assert a["unparsed"] <= 3, (a, wrong)
    # Measured with this rubric (2026-11-25): 18/30 = 0.60 (tp 11, tn 7, fp 8, fn 4); two other rubrics scored 0.53
    # and 0.50 (too lenient: "FOLLOWED" for nearly everything). A 1.5B judge is weak at this; the refinement
    # experiment states the judge model, and README says to pass a stronger --judge where one is available. This
    # guards against the rubric or parsing getting worse than the measured level, not a claim that the judge is good.
    assert a["accuracy"] >= 0.55, (a, wrong)
