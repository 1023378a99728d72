"""`behavopt study` end to end with the real SmolLM2 as target, optimizer and judge, and the real MiniLM embedding
model (plumbing, no quality claim): every experiment runs, writes results.json, summary.md and its figures, and a
second call reuses the runs; bad input gets one error line."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.cli.test_eval_cli import behavopt

pytestmark = pytest.mark.e2e

TINY = ["--target", "local:smollm2-135m?threads=2", "--optimizer", "local:smollm2-135m?threads=2", "--preset", "quick",
        "--steps", "2", "--initial", "2", "--beam", "1", "--expand", "2", "--errors", "2", "--train-size", "8",
        "--dev-size", "4", "--test-size", "4", "--train-batch", "6", "--target-max-tokens", "48",
        "--optimizer-max-tokens", "96", "--max-pairs", "2"]
FIGURES = {"pseudo-errors": ["scores.png", "feedback_similarity.png"], "repetition": ["repetition.png"],
           "paraphrase": ["paraphrase_steps.png", "ape_vs_apo.png"], "refinement": ["refinement.png"]}


def test_study_all_writes_every_experiment(small_study, tmp_path):
    out, proc = small_study
    reports = json.loads(proc.stdout)
    assert [r["experiment"] for r in reports] == ["pseudo-errors", "paraphrase", "refinement", "repetition"]
    for r in reports:
        for f in r["findings"]:
            assert f["claim"] and f["ours"] and f["held"] in (True, False, None)
    for name, figures in FIGURES.items():
        results = json.loads((out / name / "results.json").read_text())
        assert results["experiment"] == name and results["setup"]["seeds"] == [0]
        assert results["setup"]["target"] == "local:smollm2-135m?threads=2"
        summary = (out / name / "summary.md").read_text()
        assert summary.startswith(f"# Study: {name}") and "n=1, no interval" in summary
        for png in figures:
            assert (out / name / png).read_bytes()[:4] == b"\x89PNG"
    runs = {p.name for p in (out / "runs").iterdir()}
    assert runs == {"apo-real-s0", "apo-pseudo-s0", "apo-sum-real-s0", "apo-sum-pseudo-s0", "apo-paraphrase-s0",
                    "ape-s0", "abo-s0"}
    pseudo = [json.loads(line) for line in (out / "runs" / "apo-pseudo-s0" / "events.jsonl").read_text().splitlines()]
    assert any(e["type"] == "pseudo_errors" for e in pseudo) or any(e["type"] == "no_errors" for e in pseudo)
    refinement = json.loads((out / "refinement" / "results.json").read_text())
    pairs = refinement["per_seed"][0]["apo"]["pairs"]
    assert pairs and all(set(p) >= {"batch", "dev", "followed", "requested"} for p in pairs)
    assert "| experiment | finding |" in (out / "summary.md").read_text()

    assert (out / "report.html").is_file() and (out / "runs" / "abo-s0" / "report.html").is_file()
    # A second call reuses every run: no new LM calls beyond cache hits, same findings (in a copy: the study is
    # shared with other tests).
    again_out = tmp_path / "again"
    shutil.copytree(out, again_out)
    again = behavopt("study", "paraphrase", "--task", "demo:object-counting", *TINY, "--seeds", "1",
                     "--out", str(again_out), "--json", env_home=out.parent, check=True)
    assert json.loads(again.stdout)[0]["findings"] == reports[1]["findings"]


@pytest.mark.parametrize("experiment, task, flags, message", [
    ("nonsense", "demo:object-counting", [], "unknown experiment 'nonsense'"),
    ("paraphrase", "demo:object-counting", ["--preset", "huge"], "unknown preset 'huge'"),
    ("paraphrase", "demo:nope", [], "unknown demo task 'nope'"),
])
def test_bad_input_gets_one_error_line(experiment, task, flags, message, tmp_path):
    proc = behavopt("study", experiment, "--task", task, "--target", "local:smollm2-135m", "--optimizer",
                    "local:smollm2-135m", "--out", str(tmp_path / "s"), *flags, env_home=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], proc.stderr
    assert not (tmp_path / "s" / "runs").exists()


def test_a_study_runs_on_your_own_files_and_metric(smollm_path, tmp_path):
    pytest.importorskip("sentence_transformers", reason="the study extra is not installed: pip install '.[study]'")
    from tests.cli.test_optimize_own_data import own_files

    out = tmp_path / "study"
    proc = behavopt("study", "pseudo-errors", *own_files(tmp_path), *TINY, "--seeds", "1", "--out", str(out),
                    "--json", env_home=tmp_path, check=True)
    (report,) = json.loads(proc.stdout)
    assert report["experiment"] == "pseudo-errors" and all(f["claim"] and f["ours"] for f in report["findings"])
    results = json.loads((out / "results.json").read_text())  # one experiment writes its files in --out
    assert results["setup"]["task"] == "custom"
    config = json.loads((out / "runs" / "apo-pseudo-s0" / "config.json").read_text())
    assert config["metric"].endswith(":reversed_word") and config["data"]
    events = [json.loads(line) for line in (out / "runs" / "apo-pseudo-s0" / "events.jsonl").read_text().splitlines()]
    shown = [e for e in events if e["type"] == "errors_shown"]
    assert all(e["fake_answers"] is not None for e in shown)  # the control ran on the user's metric
