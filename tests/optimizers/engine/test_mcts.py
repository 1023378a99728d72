"""MCTS (PromptAgent): the tree grows from the root within depth and width, visits and values backpropagate,
one iteration per step."""

import math
from types import SimpleNamespace

from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.engine.mcts import MCTS
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.events import MctsIteration, StepEnded
from behavopt.optimizers.settings import RunSettings
from tests.optimizers.helpers import build, kind_of


def depth(cands, cid):
    d = 0
    while cands[cid].parent is not None:
        cid, d = cands[cid].parent, d + 1
    return d


def test_tree_grows_from_the_root_within_depth_and_width(tmp_path):
    h = build(tmp_path, "promptagent", steps=6, mcts_depth=2, mcts_width=2)
    h.run()
    state, tree = h.state, h.state.strategy["tree"]
    cands = state.candidates
    assert tree["root"] == "c0000" and cands["c0000"].prompt == h.engine.task.instruction
    assert state.step == 6 and state.stop_reason == "finished 6 iterations"
    assert [e.step for e in state.step_log] == list(range(7))
    assert len(h.events(MctsIteration)) == 6
    for node, kids in tree["children"].items():
        assert 1 <= len(kids) <= 2
        assert depth(cands, node) < 2  # nodes at the depth limit are never expanded
        assert all(cands[k].parent == node for k in kids)
    for cid, c in cands.items():
        assert depth(cands, cid) <= 2
        if cid != "c0000":
            assert cid in tree["children"][c.parent]
    assert any(depth(cands, c) == 2 for c in cands)  # the search went deeper than the root's children
    # Everything created was scored on dev; the beam is the best by dev score.
    assert set(state.dev_scores) == set(cands)
    beam = h.engine.settings.search.beam
    assert state.beam == sorted(cands, key=lambda c: (-state.dev_scores[c], int(c[1:])))[:beam]


def test_visits_and_values_backpropagate_along_each_path(tmp_path):
    h = build(tmp_path, "promptagent", steps=6, mcts_depth=3, mcts_width=2)
    h.run()
    state, tree = h.state, h.state.strategy["tree"]
    scores = state.dev_scores
    visits = {c: 0 for c in state.candidates}
    value = {c: 0.0 for c in state.candidates}
    visits["c0000"], value["c0000"] = 1, scores["c0000"]  # the root's own evaluation
    created = {e.step: e.created for e in state.step_log}
    for ev in h.events(MctsIteration):
        path = ev.path
        assert path[0] == "c0000"
        assert all(state.candidates[b].parent == a for a, b in zip(path, path[1:]))
        assert ev.reward == scores[path[-1]]
        new = created[ev.step]
        if new:
            # The best new child extends the path; its siblings count their own evaluation once.
            assert path[-1] == max(new, key=lambda c: scores[c])
            for c in new:
                if c != path[-1]:
                    visits[c] += 1
                    value[c] += scores[c]
        for c in path:
            visits[c] += 1
            value[c] += ev.reward
    assert tree["visits"]["c0000"] == 1 + 6
    assert tree["visits"] == {c: n for c, n in visits.items() if n}
    for c, v in value.items():
        if visits[c]:
            assert math.isclose(tree["value"][c], v)


def test_at_the_depth_limit_a_leaf_is_re_evaluated_not_expanded(tmp_path):
    h = build(tmp_path, "promptagent", steps=4, mcts_depth=1, mcts_width=2)
    h.run()
    cands = h.state.candidates
    assert len(cands) == 3  # the root and its `width` children
    kinds = [kind_of(r) for r in h.optimizer.requests]
    assert kinds == ["promptagent_gradient", "promptagent_optimize", "promptagent_optimize"]
    iterations = h.events(MctsIteration)
    assert [len(e.path) for e in iterations] == [2, 2, 2, 2]
    assert [e.created for e in h.events(StepEnded)][1:] == [("c0001", "c0002"), (), (), ()]
    for e in iterations[1:]:
        assert e.reward == h.state.dev_scores[e.path[-1]]


def test_select_path_follows_uct_with_ties_to_the_earliest():
    def engine(visits, value, children):
        state = SearchState()
        for cid in {"c0000", *visits}:
            state.candidates[cid] = Candidate(cid, cid, None, 0, "x")
        state.strategy["tree"] = {"visits": visits, "value": value, "children": children, "root": "c0000"}
        return SimpleNamespace(state=state, settings=RunSettings().with_overrides(mcts_exploration=2.5))

    mcts = MCTS()
    # An unvisited child is tried first.
    e = engine({"c0000": 10, "c0001": 5, "c0002": 1}, {"c0000": 5.0, "c0001": 4.0, "c0002": 0.5},
               {"c0000": ["c0001", "c0002", "c0003"]})
    assert mcts.select_path(e) == ["c0000", "c0003"]
    # a: 0.8 + 2.5*sqrt(ln 10 / 5) = 2.50; b: 0.5 + 2.5*sqrt(ln 10) = 4.29: exploration wins.
    e = engine({"c0000": 10, "c0001": 5, "c0002": 1}, {"c0000": 5.0, "c0001": 4.0, "c0002": 0.5},
               {"c0000": ["c0001", "c0002"]})
    assert mcts.select_path(e) == ["c0000", "c0002"]
    # Descends to a leaf; equal bounds go to the earliest id (by number, not by string).
    e = engine({"c0000": 9, "c0002": 4, "c0009": 2, "c0010": 2},
               {"c0000": 4.0, "c0002": 2.0, "c0009": 1.0, "c0010": 1.0},
               {"c0000": ["c0002"], "c0002": ["c0010", "c0009"]})
    assert mcts.select_path(e) == ["c0000", "c0002", "c0009"]
