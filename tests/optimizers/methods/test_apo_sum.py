"""APO-Sum: reasons over all shown errors -> one summary of aspects -> every edit applies the whole summary."""

import re

from behavopt.optimizers.events import OptimizerCall
from tests.optimizers.helpers import build, kind_of, text_of
from tests.optimizers.methods.test_apo import error_blocks, expand_root


def test_summary_of_all_reasons_feeds_every_edit(tmp_path):
    h = build(tmp_path, "apo-sum", initial=1, errors=3, expand=4)
    root, children = expand_root(h, 4)
    kinds = [kind_of(r) for r in h.optimizer.requests]
    assert kinds == ["apo_gradient", "apo_sum_summarize", "apo_sum_edit", "apo_sum_edit", "paraphrase", "paraphrase"]
    assert len(kinds) == h.engine.method.optimizer_calls(h.engine.settings, 1)
    gradient = text_of(h.requests_of("apo_gradient")[0])
    assert "Give 3 reasons" in gradient  # reasons over all `errors` examples, not just k = 2
    assert len(error_blocks(gradient)) == 3
    calls = {e.purpose: e for e in reversed(h.events(OptimizerCall))}
    reasons = re.findall(r"<START>(.*?)<END>", calls["feedback"].output)
    assert len(reasons) == 3
    summarize = text_of(h.requests_of("apo_sum_summarize")[0])
    assert "\n".join(f"- {r}" for r in reasons) in summarize
    assert "Item #" not in summarize  # the summary call sees the reasons only
    aspects = re.findall(r"<START>(.*?)<END>", calls["summarize"].output)
    summary = "\n".join(f"- {a}" for a in aspects)
    for req in h.requests_of("apo_sum_edit"):
        text = text_of(req)
        assert f"should improve these aspects:\n{summary}\n" in text
        assert error_blocks(text) == error_blocks(gradient)
        assert not any(r in text for r in reasons)  # the raw reasons are replaced by the summary
    assert [c.origin for c in children] == ["edit", "edit", "edit+paraphrase", "edit+paraphrase"]
    assert all(c.feedback == summary and c.parent == root.id for c in children)


def test_unusable_summary_falls_back_to_the_reasons(tmp_path):
    def reply(r):
        k = kind_of(r)
        if k == "apo_gradient":
            return "1. Vague about turns.\n2. No format line.\n3. Ignores counts."
        if k == "apo_sum_summarize":
            return ""
        return "<START>Edited prompt. [q5]<END>" if k == "apo_sum_edit" else "<START>Para. [q4]<END>"

    h = build(tmp_path, "apo-sum", initial=1, errors=3, expand=2, opt_reply=reply)
    _, children = expand_root(h, 2)
    fallback = "- Vague about turns.\n- No format line.\n- Ignores counts."
    assert f"these aspects:\n{fallback}\n" in text_of(h.requests_of("apo_sum_edit")[0])
    assert [c.feedback for c in children] == [fallback, fallback]
