"""Every study experiment end to end on the scripted world (tests/optimizers/helpers.py): runs are made once and
shared, the findings carry numbers, and results.json, summary.md and the figures are written."""

import hashlib
import json
import math
import re

import pytest

from behavopt.optimizers.events import ErrorsShown
from behavopt.study.experiments.run import run_all, run_experiment
from behavopt.study.report import load_report
from behavopt.study.runner import StudyRunner, StudySpec
from behavopt.study.runview import RunView
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import SMALL, make_task, optimizer_answer, target_answer, text_of

JUDGE_MARK = "Do NOT check whether the final answer is correct"


def bag_of_words(texts):
    """A stand-in embedding: hashed word counts, so texts sharing words are close."""
    out = []
    for text in texts:
        v = [0.0] * 64
        for w in re.findall(r"[a-z]+", text.lower()):
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 64] += 1.0
        norm = math.sqrt(sum(x * x for x in v)) or 1.0
        out.append([x / norm for x in v])
    return out


def optimizer_or_judge(request):
    text = text_of(request)
    if JUDGE_MARK in text:
        return "It counts as asked.\nVerdict: " + ("FOLLOWED" if len(text) % 2 else "NOT FOLLOWED")
    return optimizer_answer(request)


@pytest.fixture
def world(monkeypatch, tmp_path):
    task = make_task()
    backends = {"target": ScriptedBackend(target_answer, name="target", max_concurrency=8),
                "optimizer": ScriptedBackend(optimizer_or_judge, name="optimizer")}
    monkeypatch.setattr("behavopt.lm.client.open_backend", lambda spec, **kw: backends[spec.target])
    monkeypatch.setattr("behavopt.optimizers.run.load_task", lambda spec, data_dir=None: task)
    monkeypatch.setattr("behavopt.study.runner.load_task", lambda spec, data_dir=None: task)
    spec = StudySpec(task="items", target="openai:target", optimizer="openai:optimizer", out=tmp_path / "study",
                     seeds=2, preset="default", settings={**SMALL, "steps": 2, "initial": 3})
    return StudyRunner(spec), backends, tmp_path / "study"


def test_pseudo_errors_compares_conditions_and_feedback(world):
    runner, backends, out = world
    report = run_experiment("pseudo-errors", runner, out, embed_loader=lambda: bag_of_words)
    assert [f.name for f in report.findings] == ["scores with pseudo errors vs real errors",
                                                 "feedback on pseudo errors vs real errors"]
    for seed in (0, 1):
        real = RunView.load(out / "runs" / f"apo-real-s{seed}")
        pseudo = RunView.load(out / "runs" / f"apo-pseudo-s{seed}")
        assert real.settings.controls.error_source == "real" and pseudo.settings.controls.error_source == "pseudo"
        assert all(e.fake_answers for e in pseudo.events_of(ErrorsShown))
        assert real.events_of(ErrorsShown) and not any(e.fake_answers for e in real.events_of(ErrorsShown))
        # Same seed, same initial beam: step-1 feedback is about the same prompts in both conditions.
        assert real.candidates["c0000"].prompt == pseudo.candidates["c0000"].prompt
    row = report.per_seed[0]
    assert 0.0 < row["apo/feedback_similarity"] <= 1.0 and len(row["apo-sum/real/dev_curve"]) == 3
    saved = json.loads((out / "results.json").read_text())
    assert saved["experiment"] == "pseudo-errors" and len(saved["per_seed"]) == 2 and saved["schema_version"] == 1
    assert [(f.name, f.claim, f.held) for f in load_report(out / "results.json").findings] == [
        (f.name, f.claim, f.held) for f in report.findings]  # read back typed
    summary = (out / "summary.md").read_text()
    assert "## scores with pseudo errors vs real errors" in summary and "[" in summary  # intervals over 2 seeds
    assert "preset `default` with beam=2, dev_size=20," in summary  # the overrides are named
    for png in ("scores.png", "feedback_similarity.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_repetition_reports_asrr_per_step_at_three_thresholds(world):
    runner, backends, out = world
    report = run_experiment("repetition", runner, out, threshold=0.8, embed_loader=lambda: bag_of_words)
    row = report.per_seed[0]
    assert set(row) >= {"apo@0.75", "apo@0.80", "apo@0.85", "apo-sum@0.80"}
    rates = row["apo@0.80"]
    assert set(rates["per_step"]) == {1, 2} and rates["asrr"] == rates["per_step"][2]
    # The scripted optimizer says "the prompt is vague" every time: from step 2 on it all repeats.
    assert rates["asrr"] == 1.0
    assert report.findings[0].held is True and (out / "repetition.png").is_file()


def test_paraphrase_runs_the_control_and_ape(world):
    runner, backends, out = world
    report = run_experiment("paraphrase", runner, out)
    para = RunView.load(out / "runs" / "apo-paraphrase-s0")
    origins = {c.origin for c in para.candidates.values() if c.step >= 1}
    assert origins == {"paraphrase-control"} and not para.events_of(ErrorsShown)
    assert len(report.per_seed[0]["apo_step_tests"]) == 2 == len(report.per_seed[0]["paraphrase_step_tests"])
    assert {f.name for f in report.findings} == {"APO-step-k vs APO-step-k-paraphrase", "Iterative-APE-best vs APO-best"}
    assert (out / "paraphrase_steps.png").is_file() and (out / "ape_vs_apo.png").is_file()


def test_refinement_scores_pairs_on_the_batch_and_judges_outputs(world):
    runner, backends, out = world
    report = run_experiment("refinement", runner, out, max_pairs=3)
    apo = report.per_seed[0]["apo"]
    assert 0 < len(apo["pairs"]) <= 3
    pair = apo["pairs"][0]
    view = RunView.load(out / "runs" / "apo-real-s0")
    shown = view.shown_errors(pair["parent"], pair["step"])
    assert pair["batch"]["shown_wrong"] == len(shown) and pair["batch"]["n_examples"] == SMALL["train_batch"]
    assert pair["judged"] == list(shown[:2]) and len(pair["followed"]) == len(pair["judged"])
    # The pair was scored on the train batch the engine logged for that step, not on a recomputed one.
    assert set(shown) <= set(view.train_batch(pair["step"]))
    assert "the behaviour that fixes it" in pair["requested"]
    abo = report.per_seed[0]["abo"]
    assert abo["pairs"] and "Carry out these steps" in abo["pairs"][0]["requested"]
    assert 0.0 <= abo["summary"]["steps_followed"] <= 1.0
    judged = [r for r in backends["optimizer"].requests if JUDGE_MARK in text_of(r)]
    assert len(judged) == sum(len(p["followed"]) for s in report.per_seed for m in ("apo", "abo") for p in s[m]["pairs"])
    assert (out / "refinement.png").is_file()


def test_all_shares_runs_and_writes_an_overview(world):
    runner, backends, out = world
    reports = run_all(runner, out, embed_loader=lambda: bag_of_words, max_pairs=2)
    assert [r.experiment for r in reports] == ["pseudo-errors", "paraphrase", "refinement", "repetition"]
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == sorted(f"{n}-s{s}" for n in ("apo-real", "apo-pseudo", "apo-sum-real", "apo-sum-pseudo",
                                                 "apo-paraphrase", "ape", "abo") for s in (0, 1))
    overview = (out / "summary.md").read_text()
    assert overview.count("\n| ") == 1 + sum(len(r.findings) for r in reports)
    # The target's answer spread over all 14 finished runs, in the overview and in every experiment's files.
    assert "Target's answers: under the best prompts of 14 runs" in overview
    for name in ("pseudo-errors", "paraphrase", "refinement", "repetition"):
        assert (out / name / "results.json").is_file() and (out / name / "summary.md").is_file()
        answers = json.loads((out / name / "results.json").read_text())["target_answers"]
        assert answers["runs"] and all(0 < r["share"] <= 1 for r in answers["runs"])
        assert f"Target's answers: {answers['text']}." in (out / name / "summary.md").read_text()
    # Repetition ran after refinement, so it measured the ABO run's failing-step reasons too.
    assert "abo@" in " ".join(reports[-1].per_seed[0])
