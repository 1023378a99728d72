"""PromptAgent: errors -> feedback -> `width` new prompts that see the trajectory of ancestor prompts."""

import re

from behavopt.optimizers.events import NoErrors, OptimizerCall
from tests.optimizers.helpers import INSTRUCTION, build, item_numbers, kind_of, quality, text_of
from tests.optimizers.methods.test_apo import error_blocks


def test_optimize_prompt_holds_feedback_and_the_ancestor_trajectory(tmp_path):
    h = build(tmp_path, "promptagent", steps=3, mcts_depth=3, mcts_width=2, errors=3)
    h.run()
    cands = h.state.candidates
    assert h.requests_of("promptagent_optimize")
    deepest = 0
    for ev in h.events(OptimizerCall):
        parent = cands[ev.parent]
        lineage, node = [], parent
        while node is not None:
            lineage.append(node.prompt)
            node = cands.get(node.parent) if node.parent else None
        lineage.reverse()  # root first
        if ev.purpose == "feedback":
            batch = h.engine.train_batch(ev.step)
            wrong = [e for e in batch if int(e.id[1:]) % 10 >= quality(parent.prompt)]
            assert len(error_blocks(ev.prompt)) == min(3, len(wrong))
            assert f"My current prompt is:\n{parent.prompt}\n" in ev.prompt
            continue
        assert ev.purpose == "optimize"
        expected = "\n".join(f"({i + 1}) {p}" for i, p in enumerate(lineage))
        assert f"modified from its former prompts:\n{expected}\n" in ev.prompt
        assert lineage[0] == INSTRUCTION
        deepest = max(deepest, len(lineage))
    assert deepest >= 2  # at least one expansion below the root saw a real trajectory


def test_one_feedback_then_width_prompts_per_expansion(tmp_path):
    h = build(tmp_path, "promptagent", steps=1, mcts_depth=2, mcts_width=3, errors=2)
    h.run()
    kinds = [kind_of(r) for r in h.optimizer.requests]
    assert kinds == ["promptagent_gradient"] + ["promptagent_optimize"] * 3
    assert len(kinds) == h.engine.method.optimizer_calls(h.engine.settings, 1)
    gradient_out = h.events(OptimizerCall)[0].output
    feedback = "\n".join(f"- {a}" for a in re.findall(r"<START>(.*?)<END>", gradient_out))
    for req in h.requests_of("promptagent_optimize"):
        assert f"the problems with this prompt and the reasons are:\n{feedback}\n" in text_of(req)
        assert error_blocks(text_of(req)) == error_blocks(text_of(h.requests_of("promptagent_gradient")[0]))
    children = [c for c in h.state.candidates.values() if c.step == 1]
    assert [(c.parent, c.origin, c.feedback) for c in children] == [("c0000", "edit", feedback)] * 3
    assert sorted(r.sample for r in h.requests_of("promptagent_optimize")) == [0, 1, 2]


def test_root_only_start_and_no_errors_fallback(tmp_path):
    h = build(tmp_path, "promptagent", steps=1, mcts_width=2,
              target_reply=lambda r: f"Answer: {item_numbers(r.messages[-1].content)[0]}")
    h.run()
    # MCTS starts from the task instruction alone: no initial paraphrases.
    assert [c.id for c in h.state.candidates.values() if c.step == 0] == ["c0000"]
    assert [kind_of(r) for r in h.optimizer.requests] == ["paraphrase", "paraphrase"]
    assert [e.parent for e in h.events(NoErrors)] == ["c0000"]
