"""Beam search: initial candidates, beam size, children per parent, steps, selection, duplicates, failures,
minibatch early stop, racing and UCB selection."""

import re

import pytest

from behavopt.lm.errors import LMError
from behavopt.optimizers.events import Duplicate, EarlyStopped, Outraced, ProposalFailed, Scored
from tests.optimizers.helpers import build, kind_of, quality, text_of


def named(qualities: dict[str, int], default: int = 5, same_as: dict[str, str] | None = None):
    """An APE optimizer whose prompts have names: paraphrase sample i of the task instruction is `Ii`, sample j of
    a prompt named X is `X.j`; each carries the quality the table gives it. `same_as` makes a name reuse another's
    text (a duplicate)."""
    same_as = same_as or {}

    def text(name: str) -> str:
        name = same_as.get(name, name)
        if name == "TASK":
            return "Read the item and reply with its number.   End with 'Answer: N'. [q3]"
        return f"{name} [q{qualities.get(name, default)}]"

    def reply(request):
        assert kind_of(request) == "paraphrase"
        varied = re.search(r"Instruction: (.*)\n\nWrite only", text_of(request), re.S).group(1)
        parent = varied.split(" [q")[0]
        name = f"I{request.sample}" if parent.startswith("Read the item") else f"{parent}.{request.sample}"
        return f"<START>{text(name)}<END>"

    return reply


def by_name(h):
    return {c.prompt.split(" [q")[0]: c.id for c in h.state.candidates.values()}


def test_counts_initial_beam_children_and_steps(tmp_path):
    h = build(tmp_path, "ape", initial=4, beam=2, expand=3, steps=2, racing=False)
    h.run()
    cands = list(h.state.candidates.values())
    step0 = [c for c in cands if c.step == 0]
    assert [(c.id, c.origin, c.parent) for c in step0] == \
        [("c0000", "task", None), ("c0001", "initial", "c0000"), ("c0002", "initial", "c0000"),
         ("c0003", "initial", "c0000")]
    assert step0[0].prompt == h.engine.task.instruction
    dev = {e.id for e in h.splits.dev}
    assert all(h.scored_ids(c.id) == dev for c in cands)  # full selection: everyone on all of dev
    assert [e.step for e in h.state.step_log] == [0, 1, 2] and h.state.step == 2
    for entry in h.state.step_log:
        assert len(entry.beam) == 2
    for step in (1, 2):
        children = [c for c in cands if c.step == step]
        assert len(children) == 2 * 3
        for parent in h.state.step_log[step - 1].beam:
            assert sum(c.parent == parent for c in children) == 3
        assert h.state.step_log[step].created == [c.id for c in children]
    assert len(h.optimizer.requests) == 3 + 2 * (2 * 3)
    assert h.state.stop_reason == "finished 2 steps"
    assert [c.id for c in cands] == [f"c{i:04d}" for i in range(len(cands))]


def test_every_beam_is_the_top_by_dev_score_with_ties_to_the_earliest(tmp_path):
    h = build(tmp_path, "ape", initial=5, beam=3, expand=2, steps=3)
    h.run()
    scores = h.state.dev_scores
    pool = [c for c in h.state.candidates if h.state.candidates[c].step == 0]
    assert h.state.step_log[0].beam == sorted(pool, key=lambda c: (-scores[c], int(c[1:])))[:3]
    for entry in h.state.step_log[1:]:
        prev = next(e for e in h.state.step_log if e.step == entry.step - 1).beam
        pool = prev + entry.created
        assert entry.beam == sorted(pool, key=lambda c: (-scores[c], int(c[1:])))[:3]
    assert len(set(scores.values())) < len(scores)  # ties happened, so the tie-break was exercised


def test_ties_go_to_the_earliest_candidate(tmp_path):
    h = build(tmp_path, "ape", initial=4, beam=2, expand=2, steps=1,
              opt_reply=named({"I0": 7, "I1": 2, "I2": 7, "I0.0": 7, "I0.1": 9, "I2.0": 1, "I2.1": 7}))
    h.run()
    ids, s = by_name(h), h.state.dev_scores
    assert s[ids["I0"]] == s[ids["I2"]] > s[ids["I1"]]
    assert h.state.step_log[0].beam == [ids["I0"], ids["I2"]]
    # I0.0 and I2.1 tie with their parents and lose to them; I0.1 beats everyone.
    assert s[ids["I0.1"]] > s[ids["I0"]] == s[ids["I0.0"]] == s[ids["I2.1"]]
    assert h.state.beam == [ids["I0.1"], ids["I0"]]
    assert h.state.best().id == ids["I0.1"]


def test_duplicates_are_not_admitted(tmp_path):
    h = build(tmp_path, "ape", initial=4, beam=2, expand=2, steps=1,
              opt_reply=named({"I0": 8, "I1": 6}, same_as={"I2": "TASK", "I0.0": "I1", "I1.1": "I0.1"}))
    h.run()
    dups = h.events(Duplicate)
    assert [(e.step, e.parent) for e in dups] == [(0, "c0000"), (1, "c0001"), (1, "c0002")]
    prompts = [" ".join(c.prompt.split()) for c in h.state.candidates.values()]
    assert len(prompts) == len(set(prompts))
    assert [c.id for c in h.state.candidates.values()] == [f"c{i:04d}" for i in range(len(prompts))]
    assert len([c for c in h.state.candidates.values() if c.step == 0]) == 3  # task + 2 new paraphrases
    assert [c.parent for c in h.state.candidates.values() if c.step == 1] == ["c0001", "c0002"]


def test_a_failing_parent_is_recorded_and_the_others_still_get_children(tmp_path):
    def fail(request):
        return LMError("server said no") if "Instruction: I0 [q" in text_of(request) else None

    h = build(tmp_path, "ape", initial=3, beam=2, expand=2, steps=1, opt_reply=named({"I0": 9, "I1": 6}),
              opt_fail=fail)
    h.run()
    ids = by_name(h)
    assert h.state.step_log[0].beam == [ids["I0"], ids["I1"]]
    failed = h.events(ProposalFailed)
    assert [(e.step, e.parent) for e in failed] == [(1, ids["I0"])]
    assert failed[0].error == "LMError: server said no"
    children = [c for c in h.state.candidates.values() if c.step == 1]
    assert [c.parent for c in children] == [ids["I1"], ids["I1"]]
    assert h.state.step == 1 and ids["I0"] in h.state.beam
    assert h.engine.usage.optimizer.errors == 1


def test_failed_initial_paraphrases_leave_the_task_instruction(tmp_path):
    h = build(tmp_path, "ape", initial=3, beam=2, expand=1, steps=1, opt_fail=lambda r: LMError("down"))
    h.run()
    assert [e.step for e in h.events(ProposalFailed)] == [0, 1]
    assert list(h.state.candidates) == ["c0000"] and h.state.beam == ["c0000"]


def test_minibatch_early_stop_drops_children_below_the_weakest_parent(tmp_path):
    h = build(tmp_path, "ape", initial=3, beam=2, expand=2, steps=2, minibatch=5, dev_size=20,
              opt_reply=named({"I0": 8, "I1": 6, "I0.0": 0, "I1.0": 0, "I0.1": 9, "I1.1": 9}, default=0))
    h.run()
    ids, state = by_name(h), h.state
    dev = {e.id for e in h.splits.dev}
    stopped = h.events(EarlyStopped)
    step1 = [e for e in stopped if e.step == 1]
    assert sorted(e.candidate for e in step1) == sorted([ids["I0.0"], ids["I1.0"]])
    assert all(e.floor > e.minibatch_score and e.n == 5 for e in stopped)
    partial = state.early_stopped
    assert sorted(e.candidate for e in stopped) == sorted(partial)
    for cid in partial:
        seen = h.scored_ids(cid)
        assert len(seen) == 5 and seen <= dev  # scored on the minibatch only
        assert all(cid not in entry.beam for entry in state.step_log)
    for name in ("I0.1", "I1.1"):
        assert h.scored_ids(ids[name]) == dev  # kept children get the full dev score
    assert state.step_log[1].beam == sorted([ids[n] for n in ("I0", "I1", "I0.1", "I1.1")],
                                               key=lambda c: (-state.dev_scores[c], int(c[1:])))[:2]
    # The minibatch is the same for all children of a step.
    batches = {frozenset(h.scored_ids(c)) for c in partial if state.candidates[c].step == 1}
    assert len(batches) == 1
    assert state.best().id not in partial


def test_ucb_selection_keeps_beam_ids_scored_on_dev_only(tmp_path):
    h = build(tmp_path, "ape", initial=4, beam=2, expand=2, steps=2, selection="ucb", ucb_rounds=3, ucb_sample=5,
              dev_size=20, opt_reply=named({"I0": 9, "I1": 0, "I2": 1}, default=4))
    h.run()
    state, dev = h.state, {e.id for e in h.splits.dev}
    dev_inputs = {e.input for e in h.splits.dev}
    for r in h.target.requests:
        assert any(inp in text_of(r) for inp in dev_inputs)  # no train (APE) and no test example
    for entry in state.step_log:
        assert len(entry.beam) == 2
        assert all(c in state.dev_scores for c in entry.beam)
    for cid, score in state.dev_scores.items():
        recs = h.engine.scorer.all_records(cid)
        assert {r.id for r in recs} <= dev and len(recs) >= 5
        assert score == sum(r.correct for r in recs) / len(recs)
    assert by_name(h)["I0"] in state.step_log[0].beam
    scored = h.events(Scored)
    assert scored and all(e.selection == "ucb" and e.split == "dev" for e in scored)
    # Round 1 pulls the first `beam` arms (unpulled arms tie at +inf: earliest first), round 2 the others.
    first = [r for r in h.target.requests[:10]]
    assert {quality(r.messages[-1].content.rpartition("\n\n")[0]) for r in first} == {3, 9}


def _run_pair(tmp_path, method: str, **settings):
    raced = build(tmp_path / "raced", method, **settings)
    raced.run()
    full = build(tmp_path / "full", method, racing=False, **settings)
    full.run()
    return raced, full


@pytest.mark.parametrize("method", ["ape", "apo", "abo"])
def test_racing_keeps_every_selection_and_scores_fewer_dev_examples(tmp_path, method):
    raced, full = _run_pair(tmp_path, method, initial=4, beam=2, expand=3, steps=3, dev_size=20)
    assert [(e.step, e.created, e.beam) for e in raced.state.step_log] == \
        [(e.step, e.created, e.beam) for e in full.state.step_log]
    assert raced.state.best().id == full.state.best().id
    outraced = raced.events(Outraced)
    assert outraced, "no child was stopped: the test shows nothing"
    assert len(raced.target.requests) < len(full.target.requests)
    for e in outraced:
        assert e.best_possible <= e.bar and e.scored < e.n == 20
        assert len(raced.scored_ids(e.candidate)) == e.scored
        # the child's full score (from the run without racing) indeed would not have passed the bar
        assert full.state.dev_scores[e.candidate] <= e.bar
    assert sorted(raced.state.early_stopped) == sorted(e.candidate for e in outraced)
    for cid, score in raced.state.fully_scored().items():
        assert score == full.state.dev_scores[cid]


def test_racing_stops_a_child_once_it_cannot_pass_the_beams_last_member(tmp_path):
    h = build(tmp_path, "ape", initial=3, beam=2, expand=2, steps=1, dev_size=20,
              opt_reply=named({"I0": 8, "I1": 6, "I0.0": 0, "I0.1": 9, "I1.0": 6, "I1.1": 0}, default=0))
    h.run()
    ids = by_name(h)
    stopped = {e.candidate: e for e in h.events(Outraced)}
    assert set(stopped) == {ids["I0.0"], ids["I1.0"], ids["I1.1"]}
    # I0.1 passes I1 and is in; I1.0 is as good as I1 at best, and ties go to the earlier candidate.
    assert h.state.beam == [ids["I0.1"], ids["I0"]]
    assert all(e.scored < 20 for e in stopped.values())


def test_a_method_that_shows_every_score_scores_every_child_fully(tmp_path):
    raced, full = _run_pair(tmp_path, "opro", initial=4, beam=2, expand=2, steps=2, dev_size=12)
    assert not raced.events(Outraced)
    assert len(raced.target.requests) == len(full.target.requests)
    assert raced.state.dev_scores == full.state.dev_scores
