"""Iterative APE: only paraphrases, of the beam's prompts; it never looks at errors."""

import re

from behavopt.optimizers.events import ErrorsShown, OptimizerCall
from tests.optimizers.helpers import INSTRUCTION, build, kind_of, text_of


def test_ape_only_paraphrases_its_parents(tmp_path):
    h = build(tmp_path, "ape", initial=3, beam=2, expand=2, steps=2)
    h.run()
    assert {kind_of(r) for r in h.optimizer.requests} == {"paraphrase"}
    cands = h.state.candidates
    by_prompt = {c.prompt: c for c in cands.values()}
    # Initial candidates: paraphrases of the task instruction.
    initial = [c for c in cands.values() if c.step == 0 and c.origin != "task"]
    assert len(initial) == 2 and all(c.origin == "initial" and c.parent == "c0000" for c in initial)
    for step in (1, 2):
        beam_before = h.state.step_log[step - 1].beam
        children = [c for c in cands.values() if c.step == step]
        assert children and all(c.origin == "variation" and c.parent in beam_before for c in children)
    # Each request names the prompt of the candidate recorded as the child's parent.
    for ev in h.events(OptimizerCall):
        varied = re.search(r"Instruction: (.*)\n\nWrite only", ev.prompt, re.S).group(1)
        parent = ev.parent
        assert cands[parent].prompt == varied
        child = by_prompt.get(re.search(r"<START>(.*?)<END>", ev.output).group(1))
        assert child is not None and child.parent == parent
    assert not h.events(ErrorsShown)
    # No train scoring: APE never asks the target about train examples.
    train_inputs = [e.input for e in h.splits.train]
    assert not any(inp in text_of(r) for r in h.target.requests for inp in train_inputs)
    assert INSTRUCTION == cands["c0000"].prompt


def test_ape_makes_expand_calls_per_parent_with_distinct_samples(tmp_path):
    h = build(tmp_path, "ape", initial=2, beam=2, expand=3, steps=1)
    h.run()
    step1 = [e for e in h.events(OptimizerCall) if e.step == 1]
    parents = h.state.step_log[0].beam
    assert len(step1) == len(parents) * 3 == h.engine.method.optimizer_calls(h.engine.settings, len(parents))
    for p in parents:
        assert sorted(e.sample for e in step1 if e.parent == p) == [0, 1, 2]
