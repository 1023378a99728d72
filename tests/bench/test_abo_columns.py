"""bench/abo.py's columns come from the runs that were made: a run left out (--runs) leaves its columns out."""

from __future__ import annotations

import json
from pathlib import Path

from behavopt.eval import InstructionPrompt
from behavopt.optimizers.candidate import Candidate
from tests.bench.helpers import load_bench
from tests.optimizers.helpers import make_task


def fake_run(path: Path, task, dev_scores: dict[str, float], steps: dict[str, list[str]]) -> Path:
    """A run directory with what the table reads: checkpoint candidates and dev scores, dev records, result."""
    (path / "records").mkdir(parents=True)
    dev = task.examples[:4]
    candidates = []
    for i, (cid, score) in enumerate(dev_scores.items()):
        meta = {"steps": steps[cid]} if cid in steps else {}
        candidates.append(Candidate(id=cid, prompt=f"prompt {cid}", parent=None, step=i, origin="x",
                                    meta=meta).to_dict())
        right = round(score * len(dev))
        records = [{"id": e.id, "split": "dev", "correct": k < right, "answer": e.target if k < right else "0"}
                   for k, e in enumerate(dev)]
        (path / "records" / f"{cid}.jsonl").write_text("\n".join(map(json.dumps, records)) + "\n")
    (path / "checkpoint.json").write_text(json.dumps({"candidates": candidates, "dev_scores": dev_scores}))
    best = max(dev_scores, key=dev_scores.get)
    (path / "result.json").write_text(json.dumps({"best_prompt": f"prompt {best}"}))
    return path


def abo_run(tmp_path: Path, task, dev_scores: list[float]) -> Path:
    """An ABO run: the instruction (c0000, step 0), then procedures c0001 (step 1) and c0002 (step 2)."""
    return fake_run(tmp_path / "abo", task, {f"c{i:04d}": s for i, s in enumerate(dev_scores)},
                    {"c0001": ["a", "b"], "c0002": ["a", "b", "c"]})


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
    assert "ABO no demo (step 2)" not in both


def test_step_one_pick_ignores_later_candidates(tmp_path):
    task = make_task()
    picks = load_bench("abo").prompts_to_score(task, {"abo": abo_run(tmp_path, task, [0.5, 0.25, 1.0])}, shots=None)
    # c0001 was made at step 1 and is below the instruction on dev: ABO step 1 is the instruction.
    assert picks["ABO step 1"].id == "c0000" and picks["ABO step 2"].id == "c0002"
    assert picks["best ABO procedure (step 2)"].id == "c0002"
