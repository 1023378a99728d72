"""APO: train errors -> feedback -> edit that applies it -> paraphrase of the edit."""

import asyncio
import re

from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.events import ErrorsShown, NoErrors, OptimizerCall, UnparsedReply
from tests.optimizers.helpers import INSTRUCTION, build, item_numbers, kind_of, quality, text_of


def expand_root(h, n):
    async def go():
        root = (await h.engine.initial_candidates())[0]
        await h.engine.score_dev([root])
        return root, await h.engine.expand([root], n, 1)

    return asyncio.run(go())


def error_blocks(text: str) -> list[str]:
    """The error examples of a reflection prompt: each runs from its heading to its `Model output:` line."""
    return re.findall(r"## Example \d+\n(Input: .*?\nModel output: [^\n]*)", text, re.S)


def test_feedback_prompt_holds_parent_and_exactly_k_train_errors(tmp_path):
    h = build(tmp_path, "apo", initial=1, errors=3, expand=2)
    root, children = expand_root(h, 2)
    assert [kind_of(r) for r in h.optimizer.requests] == ["apo_gradient", "apo_edit", "paraphrase"]
    feedback = text_of(h.requests_of("apo_gradient")[0])
    assert f'My current prompt is:\n"{INSTRUCTION}"' in feedback and "Give 1 reasons" in feedback
    blocks = error_blocks(feedback)
    assert len(blocks) == 3
    batch = {e.id: e for e in h.engine.train_batch(1)}
    train_ids = {e.id for e in h.splits.train}
    shown = []
    for block in blocks:
        m = re.fullmatch(r"Input: Item #(\d{3}): which number is this\?\nCorrect answer: (\d+)\nModel answer: (\d+)\n"
                         r"Model output: Hmm\. Answer: (\d+)", block)
        assert m, block
        n, gold, got, out = (int(g) for g in m.groups())
        assert gold == n and got == out == n + 1  # a real error of the parent: the gold and the model's answer
        assert n % 10 >= quality(root.prompt)
        shown.append(f"x{n:03d}")
    # From this step's train batch (the train split), never dev or test, and each example once.
    assert len(set(shown)) == 3 and set(shown) <= set(batch) <= train_ids
    assert list(h.events(ErrorsShown)[0].example_ids) == shown


def test_edit_prompt_holds_the_feedback_and_children_record_lineage(tmp_path):
    h = build(tmp_path, "apo", initial=1, errors=3, expand=2)
    root, children = expand_root(h, 2)
    gradient_reply = h.events(OptimizerCall)[0].output
    reason = re.search(r"<START>(.*?)<END>", gradient_reply).group(1)
    edit_req = text_of(h.requests_of("apo_edit")[0])
    assert f"the problem with this prompt is that:\n{reason}\n" in edit_req
    assert f'"{INSTRUCTION}"' in edit_req
    # The edit sees the same errors as the feedback call.
    assert error_blocks(edit_req) == error_blocks(text_of(h.requests_of("apo_gradient")[0]))
    assert [(c.parent, c.origin, c.feedback, c.step) for c in children] == \
        [(root.id, "edit", reason, 1), (root.id, "edit+paraphrase", reason, 1)]
    # The paraphrase varies the edited prompt, not the parent.
    para = text_of(h.requests_of("paraphrase")[0])
    assert f"Instruction: {children[0].prompt}\n" in para and INSTRUCTION not in para
    assert [c.id for c in children] == ["c0001", "c0002"]


def test_k_reasons_give_k_edits_then_their_paraphrases(tmp_path):
    h = build(tmp_path, "apo", initial=1, errors=3, expand=4)
    root, children = expand_root(h, 4)
    kinds = [kind_of(r) for r in h.optimizer.requests]
    assert kinds == ["apo_gradient", "apo_edit", "apo_edit", "paraphrase", "paraphrase"]
    assert len(kinds) == h.engine.method.optimizer_calls(h.engine.settings, 1)
    assert "Give 2 reasons" in text_of(h.requests_of("apo_gradient")[0])
    reasons = re.findall(r"<START>(.*?)<END>", h.events(OptimizerCall)[0].output)
    assert len(reasons) == 2
    assert [c.origin for c in children] == ["edit", "edit", "edit+paraphrase", "edit+paraphrase"]
    assert [c.feedback for c in children] == [reasons[0], reasons[1], reasons[0], reasons[1]]
    assert all(c.parent == root.id for c in children)
    for req, reason in zip(h.requests_of("apo_edit"), reasons):
        assert f"is that:\n{reason}\n" in text_of(req)
    # Samples tell repeated calls apart.
    assert [r.sample for r in h.requests_of("apo_edit")] == [0, 1]


def test_fewer_wrong_answers_than_errors_shows_them_all(tmp_path):
    h = build(tmp_path, "apo", initial=1, errors=4, expand=2, train_batch=10)
    h.engine.task.instruction = "Nearly perfect. [q9]"
    root, _ = expand_root(h, 2)
    wrong = [e.id for e in h.engine.train_batch(1) if int(e.id[1:]) % 10 >= 9]
    assert 0 < len(wrong) < 4
    assert sorted(h.events(ErrorsShown)[0].example_ids) == sorted(wrong)
    assert len(error_blocks(text_of(h.requests_of("apo_gradient")[0]))) == len(wrong)


def test_no_errors_falls_back_to_paraphrases(tmp_path):
    h = build(tmp_path, "apo", initial=1, expand=2, target_reply=lambda r: "Answer: " + str(
        item_numbers(r.messages[-1].content)[0]))
    root, children = expand_root(h, 2)
    assert [kind_of(r) for r in h.optimizer.requests] == ["paraphrase", "paraphrase"]
    assert [e.parent for e in h.events(NoErrors)] == [root.id]
    assert [(c.origin, c.parent) for c in children] == [("paraphrase", root.id)] * 2


def test_unparsed_edit_is_noted_and_yields_no_child(tmp_path):
    def reply(r):
        k = kind_of(r)
        if k == "apo_gradient":
            return "<START>Too vague.<END>"
        return "   " if k == "apo_edit" else "<START>never asked<END>"

    h = build(tmp_path, "apo", initial=1, expand=2, opt_reply=reply)
    _, children = expand_root(h, 2)
    assert children == []
    assert [e.purpose for e in h.events(UnparsedReply)] == ["edit"]


def test_errors_come_from_the_steps_train_batch_for_every_parent(tmp_path):
    # Two parents in one step see errors from the same train batch (so their feedback is comparable).
    h = build(tmp_path, "apo", initial=1, errors=3, expand=2)

    async def go():
        root = (await h.engine.initial_candidates())[0]
        other = h.state.add(Proposal("Other prompt [q2]", None, "task"), 0)
        await h.engine.score_dev([root, other])
        return await h.engine.expand([root, other], 2, 1)

    asyncio.run(go())
    batch = {e.id for e in h.engine.train_batch(1)}
    shown = h.events(ErrorsShown)
    assert len(shown) == 2 and all(set(e.example_ids) <= batch for e in shown)
    assert isinstance(h.state.candidates["c0001"], Candidate)


def test_pseudo_error_source_shows_correct_answers_made_wrong(tmp_path):
    h = build(tmp_path, "apo", initial=1, errors=3, expand=2, error_source="pseudo")
    root, children = expand_root(h, 2)
    blocks = error_blocks(text_of(h.requests_of("apo_gradient")[0]))
    records = asyncio.run(h.engine.context(1, root.id).train_records(root))
    right = [r for r in records if r.correct]
    assert len(blocks) == min(3, len(right)) > 0  # as many as there are correct answers to dress up
    for block in blocks:
        m = re.fullmatch(r"Input: Item #(\d{3}): which number is this\?\nCorrect answer: (\d+)\nModel answer: (\d+)\n"
                         r"Model output: Answer: (\d+)", block)
        assert m, block
        n, gold, got, out = (int(g) for g in m.groups())
        # The parent answered this example correctly; the optimizer is shown a nearby wrong number instead.
        assert n % 10 < quality(root.prompt) and gold == n and got == out != n
    shown = h.events(ErrorsShown)[0]
    assert shown.parent == root.id and len(shown.example_ids) == len(blocks)
    # The fake answers shown are logged beside the example ids, in the order the optimizer saw them.
    assert shown.fake_answers is not None and len(shown.fake_answers) == len(blocks)
    assert [int(re.search(r"Model answer: (\d+)", b).group(1)) for b in blocks] == [int(a) for a in shown.fake_answers]


def test_paraphrase_steps_replace_reflection_by_paraphrases_of_the_parent(tmp_path):
    h = build(tmp_path, "apo", initial=1, errors=3, expand=2, paraphrase_steps=1)
    root, children = expand_root(h, 2)
    assert [kind_of(r) for r in h.optimizer.requests] == ["paraphrase", "paraphrase"]
    assert all(f"{root.prompt}" in text_of(r) for r in h.optimizer.requests)
    assert [(c.parent, c.origin) for c in children] == [(root.id, "paraphrase-control")] * 2
    assert not h.events(ErrorsShown)
