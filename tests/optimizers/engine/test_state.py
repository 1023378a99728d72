"""The search state: ids, duplicates, best(), the JSON round trip a checkpoint relies on, and its file format:
an older version is upgraded, an unknown one refused with one line."""

import json

import pytest

from behavopt.core.schema import SchemaError
from behavopt.lm.types import Message, UsageByRole
from behavopt.optimizers.behavior import Procedure
from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.engine.state import SearchState, StepRecord
from behavopt.tasks.types import Example
from tests.optimizers.helpers import build


def test_add_numbers_candidates_and_drops_what_shows_nothing_new():
    s = SearchState()
    a = s.add(Proposal("  Count the steps.\n", None, "task"), 0)
    assert (a.id, a.prompt, a.step) == ("c0000", "Count the steps.", 0)
    assert s.add(Proposal("Count   the\nsteps.", a.id, "paraphrase"), 1) is None  # same words, other spacing
    b = s.add(Proposal("Count the steps.", a.id, "demo", demos=(Message("user", "q"), Message("assistant", "a"))), 1)
    assert b is not None and b.id == "c0001"  # same text with demonstrations shows the target something else
    procedure = Procedure(steps=("Track.", "Answer."), demo_example="x1", demo_answer="No")
    c = s.add(Proposal("Track position.", b.id, "edit", feedback="too vague", procedure=procedure), 2)
    assert (c.id, c.parent, c.origin, c.feedback, c.procedure) == ("c0002", "c0001", "edit", "too vague", procedure)
    assert s.next_id == 3 and list(s.candidates) == ["c0000", "c0001", "c0002"]


def test_candidate_renders_demos_then_prompt_and_input():
    c = Candidate("c0001", "  Be brief. ", None, 0, "x", demos=(Message("user", "1+1?"), Message("assistant", "2")))
    ex = Example("e1", "2+2?", "4")
    assert c.render(ex) == [Message("user", "1+1?"), Message("assistant", "2"), Message("user", "Be brief.\n\n2+2?")]
    assert Candidate("c0002", "  ", None, 0, "x").render(ex) == [Message("user", "2+2?")]


def test_best_breaks_ties_to_the_earliest_by_number():
    s = SearchState()
    for i in range(12):
        s.add(Proposal(f"P{i}", None, "x"), 0)
    s.dev_scores.update({"c0011": 0.7, "c0009": 0.7, "c0010": 0.7, "c0003": 0.5})
    assert s.best().id == "c0009"  # not "c0010" < "c0009" as strings, and unscored ones are ignored
    s.dev_scores["c0011"] = 0.71
    assert s.best().id == "c0011"


def test_best_ignores_early_stopped_candidates():
    # An early-stopped candidate's score is on a small minibatch only: it must not win over full dev scores.
    s = SearchState()
    for i in range(3):
        s.add(Proposal(f"P{i}", None, "x"), 0)
    s.dev_scores.update({"c0000": 0.5, "c0001": 0.6, "c0002": 0.8})
    s.early_stopped = ["c0002"]
    assert s.best().id == "c0001"


def roundtrip(state: SearchState) -> SearchState:
    return SearchState.from_dict(json.loads(json.dumps(state.to_dict())))


def assert_same(a: SearchState, b: SearchState) -> None:
    assert a.to_dict() == b.to_dict()
    assert list(a.candidates) == list(b.candidates)
    for cid in a.candidates:
        x, y = a.candidates[cid], b.candidates[cid]
        assert x == y and x.procedure == y.procedure and x.demos == y.demos
    assert (a.step, a.beam, a.next_id, a.stop_reason, a.step_log, a.dev_scores, a.strategy, a.early_stopped) == \
        (b.step, b.beam, b.next_id, b.stop_reason, b.step_log, b.dev_scores, b.strategy, b.early_stopped)
    assert a.best() == b.best()


def test_state_round_trips_after_a_beam_search_with_early_stops(tmp_path):
    h = build(tmp_path, "apo", initial=3, beam=2, expand=2, steps=2, minibatch=5)
    h.run()
    assert h.state.step == 2 and len(h.state.candidates) > 3
    back = roundtrip(h.state)
    assert_same(h.state, back)
    # What the engine writes to disk (run.py checkpoints once more after the strategy returns) holds the same
    # state, plus usage and wall time so far.
    assert h.state.early_stopped
    h.engine.checkpoint()
    restored = h.rundir.load_checkpoint()
    assert restored.usage_before.target.calls == len(h.target.requests)
    assert restored.usage_before.optimizer.calls == len(h.optimizer.requests)
    restored.usage_before, restored.wall_before = UsageByRole(), 0.0
    assert_same(restored, h.state)
    assert json.loads(h.rundir.checkpoint_path.read_text())["schema_version"] == 1


def test_state_round_trips_after_mcts_with_demos_and_a_procedure(tmp_path):
    h = build(tmp_path, "promptagent", steps=2)
    h.run()
    procedure = Procedure(steps=("Read.", "Answer."), demo_example="x001", demo_answer="1", refined_step=2)
    added = h.state.add(Proposal("With demos", "c0000", "demo", demos=(Message("user", "q"), Message("assistant", "a")),
                                 procedure=procedure, style="turns"), 3)
    back = roundtrip(h.state)
    assert_same(h.state, back)
    assert back.strategy["tree"]["root"] == "c0000"
    assert back.candidates[added.id].demos == (Message("user", "q"), Message("assistant", "a"))
    assert back.candidates[added.id].procedure == procedure and back.candidates[added.id].style == "turns"
    assert SearchState.from_dict({k: v for k, v in h.state.to_dict().items()
                                  if k not in ("usage_before", "wall_before", "strategy")}).strategy == {}


# A checkpoint as behavopt wrote it before schema versions (version 0), cut down to two candidates.
V0_CHECKPOINT = {
    "step": 1, "next_id": 2, "stop_reason": "finished 1 steps", "beam": ["c0001"],
    "candidates": [
        {"id": "c0000", "prompt": "Count.", "parent": None, "step": 0, "origin": "task", "feedback": None,
         "demos": [], "meta": {}, "style": "instruction"},
        {"id": "c0001", "prompt": "Count.\n\nFollow this procedure exactly.", "parent": "c0000", "step": 1,
         "origin": "behavior", "feedback": None, "demos": [{"role": "user", "content": "q"},
                                                           {"role": "assistant", "content": "Step 1: a\nAnswer: 2"}],
         "meta": {"steps": ["List.", "Add."], "demo_example": "e3", "demo_answer": "2"}, "style": "turns"}],
    "dev_scores": {"c0000": 0.2, "c0001": 0.4},
    "step_log": [{"step": 0, "created": ["c0000"], "beam": ["c0000"]},
                 {"step": 1, "created": ["c0001"], "beam": ["c0001"]}],
    "usage_before": {"target": {"calls": 5, "prompt_tokens": 50, "completion_tokens": 10, "cache_hits": 1,
                                "errors": 0, "seconds": 1.5}, "optimizer": {"calls": 1}},
    "wall_before": 3.0,
    "strategy": {"partial": ["c0000"], "method": {"failing_steps": {"c0001": {"1": 2}}}},
}


def test_a_version_0_checkpoint_is_upgraded():
    state = SearchState.from_dict(json.loads(json.dumps(V0_CHECKPOINT)))
    assert state.candidates["c0001"].procedure == Procedure(steps=("List.", "Add."), demo_example="e3",
                                                            demo_answer="2")
    assert state.candidates["c0000"].procedure is None
    assert state.early_stopped == ["c0000"] and state.method_notes == {"failing_steps": {"c0001": {"1": 2}}}
    assert state.strategy == {} and state.step_log[1] == StepRecord(1, ["c0001"], ["c0001"])
    assert state.usage_before.target.calls == 5 and state.usage_before.optimizer.calls == 1
    assert state.best().id == "c0001"
    assert roundtrip(state).to_dict() == state.to_dict()


@pytest.mark.parametrize("version", [2, 99, "1", -1])
def test_an_unknown_checkpoint_version_is_refused_in_one_line(version):
    data = {**SearchState().to_dict(), "schema_version": version}
    with pytest.raises(SchemaError) as err:
        SearchState.from_dict(data, "run/checkpoint.json")
    assert "\n" not in str(err.value) and "run/checkpoint.json" in str(err.value)
    assert "upgrade behavopt, or start a new run directory" in str(err.value)


def test_a_damaged_checkpoint_names_the_field():
    data = SearchState().to_dict()
    data["dev_scores"] = {"c0000": "high"}
    with pytest.raises(SchemaError, match=r"run/checkpoint.json is not a valid SearchState \(at dev_scores.c0000"):
        SearchState.from_dict(data, "run/checkpoint.json")
