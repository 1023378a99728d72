"""Experiment `paraphrase`: is reflecting on errors better than paraphrasing?

Per seed: APO as usual; the same APO with every refined prompt at steps 1..k replaced by a meaning-preserving
paraphrase of its parent (`RunSettings.paraphrase_steps`; one run with k = all steps gives APO-step-k-paraphrase
for every k, as steps after k do not change what came before); and Iterative APE (`ape`). Compared on the test
split: the best-by-dev prompt up to each step k, APO vs paraphrase, and Iterative-APE-best vs APO-best.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavopt.study.experiments.base import Estimate, ExperimentReport, Finding, no_worse_within_noise
from behavopt.study.runner import StudyRunner
from behavopt.study.runview import RunView

NAME = "paraphrase"


def step_tests(runner: StudyRunner, view: RunView, seed: int) -> list[float]:
    """Test accuracy of the best-by-dev prompt up to each step 1..last."""
    bests = [view.best_up_to(k) for k in range(1, view.last_step + 1)]
    found = [b for b in bests if b is not None]
    return runner.test_scores(view, found, seed) if found else []


def run(runner: StudyRunner, out: Path) -> ExperimentReport:
    from behavopt.study.figures import bar_figure, curve_figure

    seeds = list(range(runner.spec.seeds))
    steps = runner.spec.search_settings(0).search.steps
    per_seed: list[dict[str, Any]] = []
    runs: list[str] = []
    for seed in seeds:
        apo = runner.real_errors_run("apo", seed)
        para = runner.run("apo-paraphrase", "apo", seed, paraphrase_steps=steps)
        ape = runner.run("ape", "ape", seed)
        runs += [str(apo.path), str(para.path), str(ape.path)]
        per_seed.append({"seed": seed, "apo_step_tests": step_tests(runner, apo, seed),
                         "paraphrase_step_tests": step_tests(runner, para, seed),
                         "apo_best_test": apo.result.best_test_score if apo.result else None,
                         "ape_best_test": ape.result.best_test_score if ape.result else None,
                         "initial_test": apo.result.initial_test_score if apo.result else None})
    n_steps = min(min(len(r["apo_step_tests"]), len(r["paraphrase_step_tests"])) for r in per_seed)
    curves: dict[str, list] = {"APO (reflection)": [], "APO with paraphrases": []}
    diffs = []
    for k in range(n_steps):
        a = [r["apo_step_tests"][k] for r in per_seed]
        p = [r["paraphrase_step_tests"][k] for r in per_seed]
        curves["APO (reflection)"].append((k + 1, *Estimate.of(a).band()))
        curves["APO with paraphrases"].append((k + 1, *Estimate.of(p).band()))
        diffs.append(Estimate.paired(p, a))
    curve_figure(out / "paraphrase_steps.png", f"{runner.spec.task}: APO-step-k vs paraphrases", "step k",
                 "test accuracy of the best prompt so far", curves)
    last = diffs[-1] if diffs else Estimate.of([])
    findings = [Finding(
        name="APO-step-k vs APO-step-k-paraphrase",
        claim="Replacing APO's reflected refinements by paraphrases of the parent scores about as well.",
        ours="; ".join(f"step {k + 1}: paraphrase - APO {d.text()}" for k, d in enumerate(diffs)) or "no steps",
        held=no_worse_within_noise(last), figure="paraphrase_steps.png",
        numbers={"paraphrase_minus_apo": [d.__dict__ for d in diffs]})]

    ape = [r["ape_best_test"] for r in per_seed]
    apo = [r["apo_best_test"] for r in per_seed]
    diff = Estimate.paired(ape, apo)
    bar_figure(out / "ape_vs_apo.png", f"{runner.spec.task}: Iterative APE vs APO (test)", "test accuracy",
               [("Iterative APE best", *Estimate.of(ape).band()), ("APO best", *Estimate.of(apo).band()),
                ("initial prompt", *Estimate.of([r["initial_test"] for r in per_seed]).band())])
    findings.append(Finding(
        name="Iterative-APE-best vs APO-best",
        claim="Iterative APE (paraphrasing, no reflection) is about as good as APO.",
        ours=f"APE best {Estimate.of(ape).text()}, APO best {Estimate.of(apo).text()}, APE - APO {diff.text()}",
        held=no_worse_within_noise(diff), figure="ape_vs_apo.png",
        numbers={"ape": Estimate.of(ape).__dict__, "apo": Estimate.of(apo).__dict__, "ape_minus_apo": diff.__dict__}))
    return ExperimentReport(NAME, runner.spec.describe(), findings, per_seed, runs)
