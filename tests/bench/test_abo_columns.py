"""bench/abo.py's columns come from the runs that were made: a run left out (--runs) leaves its columns out. The fake
runs are written through behavopt's own typed files (RunDir, SearchState, OptimizationResult), as a real run is."""

from __future__ import annotations

from pathlib import Path

from behavopt.eval import InstructionPrompt
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.behavior import Procedure
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.rundir import RunDir
from tests.bench.helpers import fake_result, load_bench
from tests.optimizers.helpers import make_task


def dev_records(task, score: float, wrong: str = "0") -> list[tuple[str, EvalRecord]]:
    """Dev records of the first four examples, the first `score` share of them right."""
    dev = task.examples[:4]
    right = round(score * len(dev))
    return [("dev", EvalRecord(e.id, e.input, "out", e.target if k < right else wrong, e.target, k < right, None,
                               0.1, False)) for k, e in enumerate(dev)]


def fake_run(path: Path, task, dev_scores: dict[str, float], steps: dict[str, list[str]],
             early_stopped: tuple[str, ...] = ()) -> Path:
    """A run directory with what the table reads: checkpoint candidates and dev scores, dev records, result."""
    rundir = RunDir(path)
    rundir.prepare(RunConfig(task="items", method="abo", target="t", optimizer="o"), resume=False)
    candidates = {}
    for i, (cid, score) in enumerate(dev_scores.items()):
        procedure = Procedure(steps=tuple(steps[cid])) if cid in steps else None
        candidates[cid] = Candidate(id=cid, prompt=f"prompt {cid}", parent=None, step=i, origin="x",
                                    procedure=procedure)
        rundir.save_records(cid, dev_records(task, score))
    rundir.save_checkpoint(SearchState(step=len(dev_scores) - 1, candidates=candidates, dev_scores=dev_scores,
                                       early_stopped=list(early_stopped), next_id=len(dev_scores)))
    best = max((c for c in dev_scores if c not in early_stopped), key=dev_scores.get)
    rundir.save_result(fake_result(best, f"prompt {best}"), f"prompt {best}\n")
    return path


def abo_run(tmp_path: Path, task, dev_scores: list[float], early_stopped: tuple[str, ...] = ()) -> Path:
    """An ABO run: the instruction (c0000, step 0), then procedures c0001 (step 1) and c0002 (step 2)."""
    return fake_run(tmp_path / "abo", task, {f"c{i:04d}": s for i, s in enumerate(dev_scores)},
                    {"c0001": ["a", "b"], "c0002": ["a", "b", "c"]}, early_stopped)


def test_columns_follow_the_runs_made(tmp_path):
    bench = load_bench("abo")
    task = make_task()
    abo = abo_run(tmp_path, task, [0.5, 0.75, 0.25])
    only_abo = bench.prompts_to_score(task, {"abo": abo}, shots=None)
    assert set(only_abo) == {"zero-shot", "zero-shot CoT", "ABO step 1", "ABO step 2", "best ABO procedure (step 2)",
                             "ABO by dev kappa (step 2)"}
    assert only_abo["ABO step 1"].id == "c0001" and only_abo["ABO step 2"].id == "c0001"

    apo = fake_run(tmp_path / "apo", task, {"c0000": 0.5, "c0001": 1.0}, {})
    both = bench.prompts_to_score(task, {"apo": apo, "abo": abo}, shots="Q: 1\nA: 1")
    assert {"APO-best", "APO by dev kappa", "few-shot CoT"} <= set(both)
    assert isinstance(both["APO-best"], InstructionPrompt) and both["APO-best"].instruction == "prompt c0001"
    assert both["APO by dev kappa"].id == "c0001"
    assert "ABO no demo (step 2)" not in both


def test_step_one_pick_ignores_later_candidates(tmp_path):
    task = make_task()
    picks = load_bench("abo").prompts_to_score(task, {"abo": abo_run(tmp_path, task, [0.5, 0.25, 1.0])}, shots=None)
    # c0001 was made at step 1 and is below the instruction on dev: ABO step 1 is the instruction.
    assert picks["ABO step 1"].id == "c0000" and picks["ABO step 2"].id == "c0002"
    assert picks["best ABO procedure (step 2)"].id == "c0002"


def test_candidates_stopped_early_on_a_minibatch_are_never_picked(tmp_path):
    task = make_task()
    # c0002's 1.0 is a minibatch score only: it is out of every pick, by dev score and by dev kappa.
    picks = load_bench("abo").prompts_to_score(task, {"abo": abo_run(tmp_path, task, [0.5, 0.75, 1.0], ("c0002",))},
                                               shots=None)
    assert picks["ABO step 2"].id == "c0001" and picks["best ABO procedure (step 2)"].id == "c0001"
    assert picks["ABO by dev kappa (step 2)"].id == "c0001"


def test_ties_go_to_the_older_candidate(tmp_path):
    task = make_task()
    picks = load_bench("abo").prompts_to_score(task, {"abo": abo_run(tmp_path, task, [0.5, 0.5, 0.5])}, shots=None)
    assert picks["ABO step 2"].id == "c0000" and picks["best ABO procedure (step 2)"].id == "c0001"
    assert picks["ABO by dev kappa (step 2)"].id == "c0000"
