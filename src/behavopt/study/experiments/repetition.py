"""Experiment `repetition`: how much of the optimizer's feedback repeats what it said earlier in the same lineage.

The Average Step Repetition Rate (see `behavopt.study.repetition`) of APO's and APO-Sum's feedback on real errors,
per seed, with items clustered on MiniLM embeddings at the calibrated threshold; the rate is also given at the
threshold +- 0.05, since it moves with it. ABO's failing-step reasons are measured too when an ABO run of the same
study exists (the refinement experiment makes one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavopt.optimizers.rundir import RunDir
from behavopt.study.experiments.base import Estimate, ExperimentReport, Finding
from behavopt.study.repetition import DEFAULT_THRESHOLD, asrr, lineages
from behavopt.study.runner import StudyRunner
from behavopt.study.runview import RunView
from behavopt.study.similarity import Embed

METHODS = ("apo", "apo-sum")
NAME = "repetition"
STUDY_ASRR = 0.5


def run_rates(view: RunView, embed: Embed, threshold: float, purposes: tuple[str, ...] = ("feedback",)
              ) -> dict[str, Any] | None:
    items = view.feedback_items(purposes)
    if not items:
        return None
    ancestors = lineages(view.parents())
    result = asrr(items, embed, threshold=threshold, ancestors=ancestors)
    return {"asrr": result.asrr, "per_step": {s.step: s.rate for s in result.per_step},
            "items": {s.step: s.n_items for s in result.per_step}}


def run(runner: StudyRunner, out: Path, embed: Embed, threshold: float = DEFAULT_THRESHOLD) -> ExperimentReport:
    from behavopt.study.figures import curve_figure

    seeds = list(range(runner.spec.seeds))
    per_seed: list[dict[str, Any]] = []
    runs: list[str] = []
    for seed in seeds:
        row: dict[str, Any] = {"seed": seed}
        for method in METHODS:
            view = runner.real_errors_run(method, seed)
            runs.append(str(view.path))
            for t in (threshold - 0.05, threshold, threshold + 0.05):
                row[f"{method}@{t:.2f}"] = run_rates(view, embed, t)
        abo_dir = runner.run_dir("abo", seed)
        if RunDir(abo_dir).checkpoint_path.is_file():
            view = RunView.load(abo_dir)
            runs.append(str(view.path))
            row[f"abo@{threshold:.2f}"] = run_rates(view, embed, threshold, ("localize",))
        per_seed.append(row)

    key = f"{threshold:.2f}"
    asrrs = {m: Estimate.of([r[f"{m}@{key}"]["asrr"] for r in per_seed
                             if r.get(f"{m}@{key}") and r[f"{m}@{key}"]["asrr"] is not None])
             for m in (*METHODS, "abo")}
    sensitivity = {m: {f"{t:.2f}": Estimate.of([r[f"{m}@{t:.2f}"]["asrr"] for r in per_seed
                                                 if r.get(f"{m}@{t:.2f}") and r[f"{m}@{t:.2f}"]["asrr"] is not None]
                                                ).text()
                       for t in (threshold - 0.05, threshold + 0.05)} for m in METHODS}
    curves = {}
    for m in (*METHODS, "abo"):
        rows = [r[f"{m}@{key}"] for r in per_seed if r.get(f"{m}@{key}")]
        steps = sorted({s for r in rows for s in r["per_step"]})
        if steps:
            curves[m] = [(s, *Estimate.of([r["per_step"][s] for r in rows if s in r["per_step"]]).band())
                         for s in steps]
    curves[f"the study: {STUDY_ASRR:.0%}"] = [(s, STUDY_ASRR, None, None)
                                              for s in sorted({x for c in curves.values() for x, *_ in c})]
    curve_figure(out / "repetition.png", f"{runner.spec.task}: step repetition rate of the feedback", "step",
                 "share of feedback repeating earlier feedback", curves)
    measured = [asrrs[m] for m in METHODS if asrrs[m].n]
    held = None if not measured else all(e.mean > STUDY_ASRR for e in measured)
    ours = "; ".join(f"{m}: ASRR {asrrs[m].text()} (threshold {key}; at {' / '.join(f'{t}: {v}' for t, v in sensitivity[m].items())})"
                     for m in METHODS)
    if asrrs["abo"].n:
        ours += f"; abo failing-step reasons: ASRR {asrrs['abo'].text()}"
    findings = [Finding(
        name="repetition of feedback",
        claim="More than half of the optimizer's feedback from step 2 on repeats earlier feedback (ASRR > 50 %).",
        ours=ours + ("" if measured else "; no step >= 2 with feedback: run more steps"),
        held=held, figure="repetition.png",
        numbers={"threshold": threshold, "asrr": {m: e.__dict__ for m, e in asrrs.items()},
                 "sensitivity": sensitivity})]
    return ExperimentReport(NAME, {**runner.spec.describe(), "threshold": threshold}, findings, per_seed, runs)
