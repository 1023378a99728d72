"""Experiment `pseudo-errors`: does the optimizer's reflection depend on the errors it is shown?

APO and APO-Sum run twice per seed with identical seeds: once shown the target's real errors, once shown pseudo
errors (correct answers replaced by plausible wrong ones, `RunSettings.error_source = "pseudo"`). Compared:
best-so-far dev per step, test accuracy of the best prompt, and how similar the feedback is under the two conditions
for the same prompt (mean best-match cosine of MiniLM embeddings). As a reference for "similar", the feedback on
real errors for the task's own instruction is compared across seeds (different train batches, so different real
errors): if feedback on pseudo errors is as close to real feedback as real feedback on other real errors is, the
feedback does not depend on which errors were shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavopt.optimizers.candidate import INITIAL_ID
from behavopt.study.experiments.base import Estimate, ExperimentReport, Finding, no_worse_within_noise
from behavopt.study.runner import StudyRunner
from behavopt.study.runview import RunView
from behavopt.study.similarity import Embed, best_match_similarity

METHODS = ("apo", "apo-sum")
NAME = "pseudo-errors"


def feedback_by_prompt(view: RunView, step: int = 1) -> dict[str, list[str]]:
    """Feedback texts written at `step`, keyed by the normalised text of the prompt they are about."""
    cands = view.candidates
    out: dict[str, list[str]] = {}
    for item in view.feedback_items():
        if item.step == step and item.lineage_id in cands:
            out.setdefault(" ".join(cands[item.lineage_id].prompt.split()), []).append(item.text)
    return out


def feedback_similarity(real: RunView, pseudo: RunView, embed: Embed) -> float | None:
    """Mean over prompts that got feedback in both runs at step 1 (the same parents: the same initial beam)."""
    a, b = feedback_by_prompt(real), feedback_by_prompt(pseudo)
    sims = [best_match_similarity(a[p], b[p], embed).mean for p in a if p in b]
    return sum(sims) / len(sims) if sims else None


def instruction_feedback(view: RunView) -> list[str]:
    root = view.candidates.get(INITIAL_ID)
    return feedback_by_prompt(view).get(" ".join(root.prompt.split()), []) if root else []


Views = dict[tuple[str, str, int], RunView]


def seed_rows(runner: StudyRunner, embed: Embed) -> tuple[list[dict[str, Any]], list[str], Views]:
    """Per seed: each method's dev curve and test scores under real and pseudo errors, and how similar the feedback
    is under the two; the run directories used; the runs by (method, condition, seed)."""
    per_seed: list[dict[str, Any]] = []
    runs: list[str] = []
    views: Views = {}
    for seed in range(runner.spec.seeds):
        row: dict[str, Any] = {"seed": seed}
        for method in METHODS:
            for condition in ("real", "pseudo"):
                view = runner.run(f"{method}-{condition}", method, seed, error_source=condition)
                views[method, condition, seed] = view
                runs.append(str(view.path))
                row[f"{method}/{condition}/dev_curve"] = view.dev_curve()
                row[f"{method}/{condition}/best_test"] = view.result.best_test_score if view.result else None
                row[f"{method}/{condition}/initial_test"] = view.result.initial_test_score if view.result else None
            row[f"{method}/feedback_similarity"] = feedback_similarity(views[method, "real", seed],
                                                                       views[method, "pseudo", seed], embed)
        per_seed.append(row)
    return per_seed, runs, views


def reference_similarities(views: Views, seeds: list[int], embed: Embed) -> list[float]:
    """Real feedback on the task's instruction, seed i against seed j (other real errors)."""
    reference = []
    for method in METHODS:
        for i in seeds:
            for j in seeds:
                if i < j:
                    a, b = instruction_feedback(views[method, "real", i]), instruction_feedback(views[method, "real", j])
                    if a and b:
                        reference.append(best_match_similarity(a, b, embed).mean)
    return reference


def scores_finding(runner: StudyRunner, out: Path, per_seed: list[dict[str, Any]]) -> Finding:
    from behavopt.study.figures import curve_figure

    curves: dict[str, list[tuple[float, float, float | None, float | None]]] = {}
    test_numbers = {}
    for method in METHODS:
        for condition in ("real", "pseudo"):
            series = [r[f"{method}/{condition}/dev_curve"] for r in per_seed]
            length = min(len(s) for s in series)
            curves[f"{method} {condition} errors"] = [(k, *Estimate.of([s[k] for s in series]).band())
                                                      for k in range(length)]
        real = [r[f"{method}/real/best_test"] for r in per_seed]
        pseudo = [r[f"{method}/pseudo/best_test"] for r in per_seed]
        test_numbers[method] = {"real": Estimate.of(real), "pseudo": Estimate.of(pseudo),
                                "real_minus_pseudo": Estimate.paired(real, pseudo)}
    curve_figure(out / "scores.png", f"{runner.spec.task}: best dev so far, real vs pseudo errors", "step",
                 "dev accuracy", curves)
    diffs = {m: test_numbers[m]["real_minus_pseudo"] for m in METHODS}
    # The claim is "comparable": pseudo errors do about as well as real ones, i.e. pseudo - real is not below 0.
    held_each = [no_worse_within_noise(Estimate.paired([r[f"{m}/pseudo/best_test"] for r in per_seed],
                                                       [r[f"{m}/real/best_test"] for r in per_seed]))
                 for m in METHODS]
    held = None if any(h is None for h in held_each) else all(held_each)
    return Finding(
        name="scores with pseudo errors vs real errors",
        claim="Optimizing on pseudo errors gives scores comparable to optimizing on real errors.",
        ours="; ".join(f"{m}: best test real {test_numbers[m]['real'].text()}, pseudo {test_numbers[m]['pseudo'].text()}"
                       f", real - pseudo {diffs[m].text()}" for m in METHODS),
        held=held, figure="scores.png",
        numbers={m: {k: v.__dict__ for k, v in test_numbers[m].items()} for m in METHODS})


def feedback_finding(runner: StudyRunner, out: Path, per_seed: list[dict[str, Any]],
                     reference: list[float]) -> Finding:
    from behavopt.study.figures import bar_figure

    sims = {m: Estimate.of([r[f"{m}/feedback_similarity"] for r in per_seed
                            if r[f"{m}/feedback_similarity"] is not None], (-1.0, 1.0)) for m in METHODS}
    ref = Estimate.of(reference, (-1.0, 1.0))
    bars = [(f"{m}: real vs pseudo\n(same prompt)", *sims[m].band()) for m in METHODS]
    bars.append(("real vs real\n(other seed's errors)", *ref.band()))
    bar_figure(out / "feedback_similarity.png", f"{runner.spec.task}: similarity of the optimizer's feedback",
               "mean best-match cosine (MiniLM)", bars)
    if ref.n and all(s.n for s in sims.values()):
        held_sim = all(s.mean >= ref.mean - 0.05 for s in sims.values())
    else:
        held_sim = None
    return Finding(
        name="feedback on pseudo errors vs real errors",
        claim="The optimizer's feedback on pseudo errors is much the same as on real errors.",
        ours="; ".join(f"{m}: real-vs-pseudo similarity {sims[m].text()}" for m in METHODS)
             + f"; reference (real feedback on the instruction across seeds) {ref.text()}"
             + ("; held means within 0.05 of the reference or above" if held_sim is not None else
                "; the reference needs 2 or more seeds"),
        held=held_sim, figure="feedback_similarity.png",
        numbers={"similarity": {m: s.__dict__ for m, s in sims.items()}, "reference": ref.__dict__})


def run(runner: StudyRunner, out: Path, embed: Embed) -> ExperimentReport:
    per_seed, runs, views = seed_rows(runner, embed)
    reference = reference_similarities(views, list(range(runner.spec.seeds)), embed)
    findings = [scores_finding(runner, out, per_seed), feedback_finding(runner, out, per_seed, reference)]
    return ExperimentReport(NAME, runner.spec.describe(), findings, per_seed, runs)
