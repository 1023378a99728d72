"""Stop conditions, alone and as the engine checks them between steps."""

from dataclasses import dataclass, field

from behavopt.optimizers.engine.beam import BeamSearch
from behavopt.optimizers.engine.cost import Cost
from behavopt.optimizers.engine.stop import (AnyOf, MaxCalls, MaxSeconds, MaxTokens, MaxUSD, NoImprovement, Progress,
                                             ReachedScore, StopFile)
from behavopt.optimizers.run import stop_conditions
from behavopt.optimizers.settings import RunSettings
from tests.optimizers.helpers import build


def progress(calls=0, tokens=0, next_step_calls=0, step=0, best_dev=(), usd=0.0, seconds=0.0, next_usd=0.0,
             next_seconds=0.0, reserve=Cost()):
    return Progress(step=step, used=Cost(calls, tokens, usd, seconds),
                    next_step=Cost(next_step_calls, 0, next_usd, next_seconds), reserve=reserve, best_dev=best_dev)


def test_max_calls():
    cond = MaxCalls(100)
    assert cond(progress(calls=50, next_step_calls=50)) is None  # lands exactly on the budget: allowed
    assert "would be passed by the next step (50 + ~51 > 100)" in cond(progress(calls=50, next_step_calls=51))
    assert cond(progress(calls=100)) == "call budget reached (100 >= 100)"
    assert cond(progress(calls=120, next_step_calls=0)).startswith("call budget reached")
    assert cond(progress(calls=0, next_step_calls=0)) is None


def test_max_tokens():
    assert MaxTokens(1000)(progress(tokens=999)) is None
    assert MaxTokens(1000)(progress(tokens=1000)) == "token budget reached (1000 >= 1000)"


def test_usd_and_seconds_budgets_are_checked_ahead_with_the_final_test_kept_back():
    assert MaxUSD(1.0)(progress(usd=0.5, next_usd=0.5)) is None
    assert MaxUSD(1.0)(progress(usd=0.5, next_usd=0.4, reserve=Cost(usd=0.2))) == (
        "USD budget would be passed by the next step (0.5000 + ~0.4000 + ~0.2000 for the final test > 1.0000)")
    assert MaxSeconds(60)(progress(seconds=61)) == "time budget reached (61s >= 60s)"
    assert "would be passed" in MaxSeconds(60)(progress(seconds=30, next_seconds=31))
    assert MaxCalls(100)(progress(calls=50, next_step_calls=40, reserve=Cost(calls=20))).endswith(
        "(50 + ~40 + ~20 for the final test > 100)")


def test_stop_file(tmp_path):
    cond = StopFile(tmp_path / "STOP")
    assert cond(progress()) is None
    (tmp_path / "STOP").touch()
    assert cond(progress()) == f"stop file {tmp_path / 'STOP'} found"


def test_any_of_returns_the_first_reason():
    assert AnyOf(())(progress()) is None
    cond = AnyOf((MaxTokens(10), MaxCalls(5)))
    assert cond(progress(calls=1, tokens=1)) is None
    assert cond(progress(calls=9, tokens=1)).startswith("call budget reached")
    assert cond(progress(calls=9, tokens=50)).startswith("token budget reached")


def test_no_improvement_counts_the_steps_since_the_best_dev_score_last_rose():
    cond = NoImprovement(2)
    assert cond(progress(best_dev=(0.4,))) is None and cond(progress(best_dev=(0.4, 0.4))) is None
    assert cond(progress(best_dev=(0.4, 0.5, 0.5))) is None  # rose 1 step ago
    assert cond(progress(best_dev=(0.4, 0.5, 0.5, 0.5))) == "no dev improvement for 2 steps (best 0.500 since step 1)"
    assert NoImprovement(1)(progress(best_dev=(0.3, 0.3))) == "no dev improvement for 1 steps (best 0.300 since step 0)"


def test_reached_score():
    assert ReachedScore(0.8)(progress()) is None and ReachedScore(0.8)(progress(best_dev=(0.5, 0.79))) is None
    assert ReachedScore(0.8)(progress(best_dev=(0.5, 0.8))) == "dev score 0.800 reached 0.8"


def test_the_engine_stops_a_search_that_stopped_improving(tmp_path):
    # The scripted optimizer's paraphrases of "[q3]" carry random qualities: run long enough for a flat stretch.
    full = build(tmp_path / "full", "ape", steps=6)
    full.run()
    curve = full.state.best_dev_curve()
    assert len(curve) == 7 and list(curve) == sorted(curve)  # best so far never falls
    flat = next((k for k in range(1, 7) if curve[k] == curve[k - 1]), None)
    assert flat is not None, curve
    h = build(tmp_path / "patient", "ape", steps=6, stop=NoImprovement(1))
    h.run()
    assert h.state.step == flat and h.state.stop_reason.startswith("no dev improvement for 1 steps")
    reached = build(tmp_path / "reached", "ape", steps=6, stop=ReachedScore(curve[0]))
    reached.run()
    assert reached.state.step == 0 and reached.state.stop_reason.startswith("dev score")


def test_run_builds_every_configured_condition(tmp_path):
    from behavopt.optimizers.rundir import RunDir

    rundir = RunDir(tmp_path)
    cond = stop_conditions(rundir, RunSettings().with_overrides(max_calls=10, max_tokens=100, patience=2,
                                                                target_score=0.9))
    assert cond(progress(calls=1, tokens=1, next_step_calls=1)) is None
    assert cond(progress(best_dev=(0.5, 0.5, 0.5))).startswith("no dev improvement")
    assert cond(progress(best_dev=(0.95,))).startswith("dev score")
    assert cond(progress(calls=10)).startswith("call budget")
    assert cond(progress(tokens=100)).startswith("token budget")
    (tmp_path / "STOP").touch()
    assert cond(progress()).startswith("stop file")
    assert stop_conditions(rundir, RunSettings()).conditions == (StopFile(rundir.stop_path),)


@dataclass
class Recorder:
    seen: list = field(default_factory=list)

    def __call__(self, p: Progress):
        self.seen.append(p)
        return None


def test_engine_reports_true_progress_between_steps(tmp_path):
    truth = []

    def check(p: Progress):
        backends = (h.target, h.optimizer)
        tokens = sum(sum(len(m.content) for m in r.messages) for b in backends for r in b.requests)
        truth.append((p, sum(len(b.requests) for b in backends), tokens, BeamSearch().step_calls(h.engine).total))
        return None

    h = build(tmp_path, "apo", initial=3, beam=2, expand=2, steps=2, stop=check)
    h.run()
    assert [p.step for p, *_ in truth] == [0, 1]  # checked before each step, not before the initial one
    for p, calls, prompt_tokens, step_calls in truth:
        assert p.calls == calls and p.next_step.calls == step_calls
        assert p.reserve.calls == 2 * len(h.splits.test)  # the final test, which the budgets count by default
        assert p.tokens > prompt_tokens  # prompt tokens plus completion tokens
    s = h.engine.settings
    initial = s.search.initial
    assert truth[0][0].calls == initial * len(h.splits.dev) + (initial - 1)  # as BeamSearch.initial_calls says
    assert truth[0][0].calls == BeamSearch().initial_calls(h.engine).total


def stop_after_initial(tmp_path):
    """The progress at the first check, from a dry run."""
    rec = Recorder()
    h = build(tmp_path / "dry", "ape", initial=3, beam=2, expand=2, steps=2, stop=rec)
    h.run()
    return rec.seen[0]


def test_max_calls_stops_when_the_next_step_would_pass_the_budget(tmp_path):
    first = stop_after_initial(tmp_path)
    assert first.next_step.calls > 0
    h = build(tmp_path / "a", "ape", initial=3, beam=2, expand=2, steps=2,
              stop=MaxCalls(first.calls + first.next_step.calls + first.reserve.calls - 1))
    h.run()
    assert h.state.step == 0 and "would be passed by the next step" in h.state.stop_reason
    assert h.rundir.load_checkpoint().stop_reason == h.state.stop_reason
    assert not [c for c in h.state.candidates.values() if c.step > 0]
    # With exactly enough budget for the next step it goes on.
    h = build(tmp_path / "b", "ape", initial=3, beam=2, expand=2, steps=2,
              stop=MaxCalls(first.calls + first.next_step.calls + first.reserve.calls))
    h.run()
    assert h.state.step >= 1


def test_max_tokens_stops_the_search(tmp_path):
    first = stop_after_initial(tmp_path)
    h = build(tmp_path / "a", "ape", initial=3, beam=2, expand=2, steps=2, stop=MaxTokens(first.tokens))
    h.run()
    assert h.state.step == 0 and h.state.stop_reason.startswith("token budget reached")


def test_stop_file_ends_the_run_after_the_current_step(tmp_path):
    holder = {}

    def on_update(info):
        if info["step"] == 1:
            holder["h"].rundir.stop_path.touch()

    h = build(tmp_path, "ape", initial=3, beam=2, expand=2, steps=4, on_update=on_update)
    holder["h"] = h
    h.run()
    assert h.state.step == 1 and h.state.stop_reason == f"stop file {h.rundir.stop_path} found"
    assert h.rundir.load_checkpoint().step == 1


def test_mcts_checks_stop_conditions_between_iterations(tmp_path):
    rec = Recorder()
    h = build(tmp_path / "a", "promptagent", steps=3, stop=rec)
    h.run()
    assert [p.step for p in rec.seen] == [0, 1, 2]
    h = build(tmp_path / "b", "promptagent", steps=3, stop=MaxCalls(rec.seen[1].calls), count_test=False)
    h.run()
    assert h.state.step == 1 and h.state.stop_reason.startswith("call budget")
