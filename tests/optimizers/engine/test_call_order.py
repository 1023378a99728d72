"""The order the target sees calls in: all dev calls of one candidate back to back, so an in-process model reuses
their shared prompt prefix (llama.cpp keeps only what its context holds now)."""

import pytest

from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import build, target_answer


def calls_by_candidate(h):
    """Each target request as (candidate id, example id), in the order the target received them."""
    examples = h.splits.train + h.splits.dev + h.splits.test
    owner = {tuple(c.render(e)): (c.id, e.id) for c in h.state.candidates.values() for e in examples}
    return [owner[tuple(r.messages)] for r in h.target.requests if tuple(r.messages) in owner]


@pytest.mark.parametrize("method,racing", [("abo", True), ("abo", False), ("apo", True), ("opro", True)])
def test_each_candidates_dev_calls_come_back_to_back(tmp_path, method, racing):
    target = ScriptedBackend(target_answer, name="target", max_concurrency=1)
    h = build(tmp_path, method, target=target, initial=3, beam=2, expand=2, steps=2, dev_size=12, racing=racing)
    h.run()
    dev = {e.id for e in h.splits.dev}
    order = [cid for cid, eid in calls_by_candidate(h) if eid in dev]
    assert len(order) > 20
    blocks = [cid for i, cid in enumerate(order) if i == 0 or order[i - 1] != cid]
    assert len(blocks) == len(set(blocks)), f"a candidate's dev calls were split: {blocks}"
