"""Experiment `refinement`: does a refined prompt change what the target does, the way the edit meant?

For every refinement parent -> child of an APO run (and of an ABO run), on the train batch of the step the child was
made at (the batch the errors shown to the optimizer came from):
  fix rate on the shown errors, fix rate on the batch's other errors, regression rate on what the parent got right;
on dev (scored anyway): fix rate on the parent's errors and regression rate; and adherence: does the target's output
under the child show the behaviour the edit asked for? An LLM judge with a written rubric decides (checked against
30 hand-labelled cases in the tests), on up to `judged_per_pair` outputs on the shown errors. For ABO, whether the
output writes every step of the refined procedure is counted too (structural adherence).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from behavopt.eval.evaluator import EvalRecord
from behavopt.lm.errors import LMError
from behavopt.optimizers.behavior import adherence
from behavopt.optimizers.candidate import Candidate
from behavopt.study.experiments.base import Estimate, ExperimentReport, Finding
from behavopt.study.judge import agreement_note
from behavopt.study.refinement import aggregate_refinements, refinement_outcome
from behavopt.study.runner import StudyRunner
from behavopt.study.runview import RunView

NAME = "refinement"
METHODS = ("apo", "abo")


def requested_behaviour(parent: Candidate, child: Candidate) -> str:
    """What the edit asked the target to do differently, in words the judge can check against an output."""
    steps = list(child.procedure.steps) if child.procedure else []
    old = parent.procedure.steps if parent.procedure else ()
    k = child.procedure.refined_step if child.procedure else None
    if steps and old and k:
        added = len(steps) - len(old)
        new = steps[k - 1:k + added] if added >= 0 else steps[k - 1:k]
        listed = "\n".join(f"Step {k + i}: {s}" for i, s in enumerate(new))
        return f"Carry out these steps of the procedure, visibly and as written:\n{listed}"
    return ("The instruction was rewritten to fix this problem, so the output should show the behaviour that "
            f"fixes it: {child.feedback or '(no feedback recorded)'}")


async def pair_figures(runner: StudyRunner, view: RunView, seed: int, pairs: list[tuple[Candidate, Candidate]],
                       judged_per_pair: int) -> list[dict[str, Any]]:
    from behavopt.study.judge import AdherenceCase, AdherenceJudge

    train = {e.id: e for e in runner.splits(seed).train}
    out = []
    async with runner.pool() as pool:
        judge = AdherenceJudge(pool.lm(runner.spec.judge or runner.spec.optimizer, "optimizer"), seed=seed)
        for parent, child in pairs:
            batch = [train[i] for i in view.train_batch(child.step)]
            parent_recs, child_recs = await runner.score(pool, seed, [parent, child], batch)
            shown = view.shown_errors(parent.id, child.step)
            outcome = refinement_outcome(parent_recs, child_recs, shown, parent_id=parent.id, child_id=child.id)
            dev = refinement_outcome(view.records(parent.id, "dev"), view.records(child.id, "dev"), [],
                                     strict=False)
            row: dict[str, Any] = {"parent": parent.id, "child": child.id, "step": child.step,
                                   "batch": outcome.__dict__, "dev": dev.__dict__}
            by_id: dict[str, EvalRecord] = {r.id: r for r in child_recs}
            judged = [by_id[i] for i in shown if i in by_id and by_id[i].output is not None][:judged_per_pair]
            requested = requested_behaviour(parent, child)
            verdicts = []
            for record in judged:
                try:
                    verdict = await judge.judge(AdherenceCase(requested=requested, prompt=child.prompt,
                                                              input=record.input, output=record.output or ""))
                    verdicts.append(verdict.followed)
                except LMError as err:  # recorded, not fatal: one failed judge call loses one verdict
                    row.setdefault("judge_errors", []).append(f"{type(err).__name__}: {err}")
            row["requested"] = requested
            row["judged"] = [r.id for r in judged]
            row["followed"] = verdicts
            if child.procedure and child.procedure.steps:
                n = len(child.procedure.steps)
                row["steps_followed"] = sum(adherence(r.output, n).followed for r in child_recs
                                            if r.output is not None) / max(1, len(child_recs))
            out.append(row)
    return out


def seed_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from behavopt.study.refinement import RefinementOutcome

    batch = aggregate_refinements(RefinementOutcome(**r["batch"]) for r in rows)
    dev = aggregate_refinements(RefinementOutcome(**r["dev"]) for r in rows)
    verdicts = [v for r in rows for v in r["followed"] if v is not None]
    steps = [r["steps_followed"] for r in rows if "steps_followed" in r]
    return {"pairs": len(rows), "fix_shown": batch.fix_shown.micro, "fix_other": batch.fix_other.micro,
            "regression": batch.regression.micro, "dev_fix": dev.fix_other.micro, "dev_regression": dev.regression.micro,
            "followed": sum(verdicts) / len(verdicts) if verdicts else None, "judged": len(verdicts),
            "steps_followed": sum(steps) / len(steps) if steps else None}


def run(runner: StudyRunner, out: Path, max_pairs: int | None = None, judged_per_pair: int = 2) -> ExperimentReport:
    from behavopt.study.figures import bar_figure

    seeds = list(range(runner.spec.seeds))
    per_seed: list[dict[str, Any]] = []
    runs: list[str] = []
    for seed in seeds:
        row: dict[str, Any] = {"seed": seed}
        for method in METHODS:
            view = runner.real_errors_run("apo", seed) if method == "apo" else runner.run("abo", "abo", seed)
            runs.append(str(view.path))
            pairs = view.refinements()[:max_pairs]
            rows = asyncio.run(pair_figures(runner, view, seed, pairs, judged_per_pair))
            row[method] = {"summary": seed_summary(rows) if rows else None, "pairs": rows}
        per_seed.append(row)

    def est(method: str, key: str) -> Estimate:
        return Estimate.of([r[method]["summary"][key] for r in per_seed
                            if r[method]["summary"] and r[method]["summary"][key] is not None])

    keys = ("fix_shown", "fix_other", "regression", "followed")
    table = {m: {k: est(m, k) for k in (*keys, "dev_fix", "dev_regression", "steps_followed")} for m in METHODS}
    bars = [(f"{m}\n{k.replace('_', ' ')}", *table[m][k].band()) for k in keys for m in METHODS if table[m][k].n]
    bar_figure(out / "refinement.png", f"{runner.spec.task}: what refinements change", "rate", bars)
    apo = table["apo"]
    held_a = None if not (apo["fix_shown"].n and apo["regression"].n) else \
        apo["fix_shown"].mean < 0.5 and apo["regression"].mean > 0.0
    findings = [Finding(
        name="refinements and the target's behaviour",
        claim="A refined prompt often does not make the target behave as the edit intended: most errors shown to "
              "the optimizer stay wrong and some right answers break (the study names this unpredictability "
              "without counting it).",
        ours="; ".join(f"{m}: fix rate on shown errors {table[m]['fix_shown'].text()}, on other errors "
                       f"{table[m]['fix_other'].text()}, regression {table[m]['regression'].text()}, "
                       f"dev fix {table[m]['dev_fix'].text()}, dev regression {table[m]['dev_regression'].text()}"
                       for m in METHODS) + "; held means APO fixes under half of the shown errors and breaks some",
        held=held_a, figure="refinement.png",
        numbers={m: {k: v.__dict__ for k, v in t.items()} for m, t in table.items()})]
    judge_name = runner.spec.judge or runner.spec.optimizer
    paired = [(r["abo"]["summary"]["followed"], r["apo"]["summary"]["followed"]) for r in per_seed
              if r["abo"]["summary"] and r["apo"]["summary"] and r["abo"]["summary"]["followed"] is not None
              and r["apo"]["summary"]["followed"] is not None]
    diff = Estimate.paired([a for a, _ in paired], [b for _, b in paired]) if paired else Estimate.of([])
    held_b = None if diff.low is None else diff.low > 0.0
    findings.append(Finding(
        name="adherence to edits: ABO vs APO",
        claim="ABO's refinements (finer steps with a matching demonstration) are followed by the target more often "
              "than APO's edits.",
        ours=f"judge says the edit was followed: APO {apo['followed'].text()}, ABO {table['abo']['followed'].text()}, "
             f"ABO - APO {diff.text()}; ABO outputs writing every step: {table['abo']['steps_followed'].text()}; "
             f"held means the interval of ABO - APO lies above 0; {agreement_note(judge_name)}",
        held=held_b, figure="refinement.png", numbers={"abo_minus_apo_followed": diff.__dict__}))
    return ExperimentReport(NAME, runner.spec.describe(), findings, per_seed, runs)
