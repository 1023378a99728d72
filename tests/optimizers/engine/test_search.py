"""The engine's guarantees across methods: what the optimizer may see, and reproducible results."""

import asyncio

import pytest

from behavopt.optimizers.engine.beam import BeamSearch
from behavopt.optimizers.events import OptimizerCall, TrainBatch
from behavopt.optimizers.methods import method_names
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import DelayedBackend, build, optimizer_answer, target_answer, text_of

SEARCH = dict(initial=3, beam=2, expand=2, steps=2, mcts_depth=2, mcts_width=2, errors=3)


@pytest.mark.parametrize("method", method_names())
def test_no_dev_or_test_example_reaches_the_optimizer(tmp_path, method):
    h = build(tmp_path, method, **SEARCH)
    h.run()
    assert h.state.step == 2  # `steps` means the same for every method, tree search included
    texts = h.optimizer_texts()
    assert texts
    logged = [e.prompt for e in h.events(OptimizerCall)]
    assert sorted(logged) == sorted(texts)  # every optimizer call is in the event log, as sent
    for name in ("dev", "test"):
        for e in h.splits.get(name):
            leaked = [t for t in texts if e.input in t or f"Item #{e.id[1:]}:" in t]
            assert not leaked, f"{name} example {e.id} reached the optimizer"
    train_inputs = [e.input for e in h.splits.train]
    shown = any(inp in t for t in texts for inp in train_inputs)
    assert shown == (method != "ape")  # errors (apo, apo-sum, promptagent) or exemplars (opro) come from train
    # During the search the target never sees a test example; test records are written only at the end.
    test_inputs = [e.input for e in h.splits.test]
    assert not any(inp in text_of(r) for r in h.target.requests for inp in test_inputs)
    splits = {split for cid in h.state.candidates for split, _ in h.rundir.load_records(cid)}
    assert splits <= {"train", "dev"} and "dev" in splits


def test_only_parents_are_scored_on_train(tmp_path):
    h = build(tmp_path, "apo", **SEARCH)
    h.run()
    train = {e.id for e in h.splits.train}
    on_train = {cid for cid in h.state.candidates if h.scored_ids(cid) & train}
    parents = {cid for entry in h.state.step_log[:-1] for cid in entry.beam}
    assert on_train == parents
    for step in (1, 2):
        batch = {e.id for e in h.engine.train_batch(step)}
        assert len(batch) == h.engine.settings.search.train_batch and batch <= train
        for cid in h.state.step_log[step - 1].beam:
            assert batch <= h.scored_ids(cid)
    # Each step's batch is logged once, as drawn, so readers never draw it again.
    logged = {e.step: e.example_ids for e in h.events(TrainBatch)}
    assert logged == {step: tuple(e.id for e in h.engine.train_batch(step)) for step in (1, 2)}
    assert len(h.events(TrainBatch)) == 2


def snapshot(h):
    s = h.state
    return ([(c.id, c.prompt, c.parent, c.step, c.origin, c.feedback) for c in s.candidates.values()],
            s.dev_scores, [e.beam for e in s.step_log], s.best().id)


def delayed_run(tmp_path, method, delay_seed):
    target = DelayedBackend(target_answer, name="target", max_concurrency=8, delay_seed=delay_seed)
    optimizer = DelayedBackend(optimizer_answer, name="optimizer", max_concurrency=4, delay_seed=delay_seed + 1)
    h = build(tmp_path / f"run{delay_seed}", method, target=target, optimizer=optimizer, seed=7,
              **{**SEARCH, "beam": 3})
    h.run()
    return h


@pytest.mark.parametrize("method", method_names())
def test_same_seed_same_candidates_whatever_order_calls_finish(tmp_path, method):
    a, b = delayed_run(tmp_path, method, 1), delayed_run(tmp_path, method, 2)
    assert a.target.finished != b.target.finished  # the calls really finished in other orders
    if method != "promptagent":  # MCTS expands one leaf at a time, so its optimizer calls run in sequence
        assert a.optimizer.finished != b.optimizer.finished
    assert sorted(a.optimizer.finished) == sorted(b.optimizer.finished)
    assert snapshot(a) == snapshot(b)
    assert len(a.state.candidates) > 4


def test_another_seed_gives_another_search(tmp_path):
    a = build(tmp_path / "a", "apo", seed=1, **SEARCH)
    b = build(tmp_path / "b", "apo", seed=2, **SEARCH)
    a.run(), b.run()
    assert snapshot(a)[0] != snapshot(b)[0]


@pytest.mark.parametrize("method", ["apo", "promptagent"])
def test_resumed_search_ends_where_an_uninterrupted_one_does(tmp_path, method):
    full = build(tmp_path / "full", method, **SEARCH)
    full.run()
    holder = {}

    def stop_after_step_1(info):
        if info["step"] == 1:
            holder["h"].rundir.stop_path.touch()

    first = holder["h"] = build(tmp_path / "part", method, on_update=stop_after_step_1, **SEARCH)
    first.run()
    first.engine.checkpoint()
    assert first.state.step == 1 and first.state.stop_reason.startswith("stop file")
    # A fresh process (as `--resume` does it): new backends, the STOP file removed, state and records from disk.
    first.rundir.stop_path.unlink()
    second = build(tmp_path / "other", method, **SEARCH)
    second.engine.rundir = first.rundir
    second.engine.restore(first.rundir.load_checkpoint())
    assert second.state.step == 1
    second.run()
    assert snapshot(second) == snapshot(full)
    assert second.state.stop_reason == full.state.stop_reason  # not the stale reason of the first session
    # Records came back from disk: no target call repeats a (candidate, example) pair scored before.
    assert len(second.target.requests) + len(first.target.requests) == len(full.target.requests)


def test_children_are_admitted_in_parent_order(tmp_path):
    # The first parent's calls are slow, so the second parent's children are ready first; ids still follow the beam.
    class SlowFirst(ScriptedBackend):
        async def complete(self, request):
            if "Instruction: " + first_prompt in text_of(request):
                await asyncio.sleep(0.02)
            return await super().complete(request)

    first_prompt = ""
    opt = SlowFirst(optimizer_answer, name="optimizer")
    h = build(tmp_path, "ape", optimizer=opt, initial=3, beam=2, expand=2, steps=1)

    async def go():
        nonlocal first_prompt
        strategy = BeamSearch()
        initial = await h.engine.initial_candidates()
        await strategy.score(h.engine, [], initial, step=0)
        beam = await strategy.select(h.engine, initial, step=0)
        first_prompt = h.state.candidates[beam[0]].prompt
        return beam, await h.engine.expand([h.state.candidates[c] for c in beam], 2, 1)

    beam, children = asyncio.run(go())
    assert [c.parent for c in children] == [beam[0], beam[0], beam[1], beam[1]]
    assert [c.id for c in children] == ["c0003", "c0004", "c0005", "c0006"]
