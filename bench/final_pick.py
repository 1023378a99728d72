"""The final pick rules (the `search.pick` setting: dev, significant, kappa) applied to finished runs' dev records,
each pick scored on test: what each rule returns from the same search (issue 21's dev-selection lever).

The search ranks candidates by dev accuracy whatever the rule, and the rule acts once, at the end; so one finished
run, made with the default rule, serves every rule: the engine's own rule objects pick from its dev records here.
A pick that is neither the run's initial nor its best prompt has no test records: it is scored with --target where
given (the same served target, through the default response cache); a row with a pick unscored is not written.

Per run (a row): the leader's dev and test accuracy and, per rule, its pick, dev accuracy and kappa, test accuracy
and the paired exact test against the leader on test. The table adds each rule's mean test accuracy over the runs.
Rows are bench/results/final-pick/<run>.json, skipped when there (commit each as it finishes).

    .venv/bin/python bench/final_pick.py bench/results/runs/side-by-side/*/abo [--target openai:M?base_url=URL]
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path
from typing import Any

import harness

from behavopt.core.files import atomic_write_json
from behavopt.eval.evaluator import EvalRecord
from behavopt.eval.stats import mean_score, paired_comparison
from behavopt.optimizers.candidate import INITIAL_ID
from behavopt.optimizers.engine.pick import PICKS, DevResults, PickInput
from behavopt.tasks import load_task
from behavopt.tasks.types import Example

ROW_DIR = harness.RESULTS / "final-pick"


def ordered(records: list[EvalRecord], examples: list[Example]) -> list[EvalRecord]:
    """The records of these examples in the examples' order (a record file holds them in the order they finished)."""
    by_id = {r.id: r for r in records}
    return [by_id[e.id] for e in examples if e.id in by_id]


def row_name(run_dir: Path) -> str:
    return harness.slug(f"{run_dir.parent.name}-{run_dir.name}")


def pick_row(run_dir: Path, target: str | None) -> dict[str, Any]:
    """Every rule's pick from one finished run, with its dev figures and its test accuracy."""
    run = harness.RunFiles.read(run_dir)
    result = run.finished()
    if result.settings.search.pick != "dev":
        raise SystemExit(f"{run_dir} was run with pick={result.settings.search.pick}: its best is not the dev "
                         f"leader; give runs made with the default rule")
    task = load_task(result.task)
    splits = harness.splits_of(task, result.settings)
    dev, test = list(splits.dev), list(splits.test)
    pool = [c.id for c in run.scored_up_to(10**6)]
    results = {cid: DevResults.of(ordered(run.records(cid, "dev"), dev))
               for cid in dict.fromkeys([INITIAL_ID, result.best_candidate, *pool])}
    given = PickInput(initial=INITIAL_ID, leader=result.best_candidate, results=results, dev=dev, metric=task.metric)
    picks = {rule: PICKS[rule](given) for rule in PICKS}
    test_scores = {cid: [r.score for r in ordered(run.records(cid, "test"), test)]
                   for cid in {p.candidate for p in picks.values()}}
    missing = {cid for cid, scores in test_scores.items() if len(scores) != len(test)}
    if missing and target:
        scored = harness.score_prompts(task, test, target, {cid: run.state.candidates[cid] for cid in missing},
                                       result.settings)
        test_scores |= {cid: [r.score for r in ordered(list(scored[cid].records), test)] for cid in missing}
    leader_test = test_scores[result.best_candidate]
    rules = {}
    for rule, pick in picks.items():
        scores = test_scores[pick.candidate]
        complete = len(scores) == len(test)
        vs = paired_comparison(leader_test, scores) if complete else None
        rules[rule] = {"candidate": pick.candidate, "reason": pick.reason,
                       "dev": mean_score(results[pick.candidate].scores),
                       "dev_kappa": round(given.kappa(pick.candidate), 4),
                       "test": mean_score(scores) if complete else None,
                       "vs_leader": None if vs is None else {"better": vs.better, "worse": vs.worse, "p": vs.p_value}}
    return {"run": row_name(run_dir), "task": result.task, "method": result.method, "seed": result.seed,
            "dev_n": len(dev), "test_n": len(test), "candidates": len(pool), "initial_test": result.initial_test_score,
            "leader": result.best_candidate, "rules": rules}


def cell(rule: dict[str, Any]) -> str:
    test = "-" if rule["test"] is None else f"{rule['test']:.2f}"
    vs = rule["vs_leader"]
    against = "" if vs is None or not (vs["better"] or vs["worse"]) else \
        f", {vs['better']}/{vs['worse']} p = {vs['p']:.2g}"
    return f"{rule['candidate']}: dev {rule['dev']:.2f} (kappa {rule['dev_kappa']:.2f}), test {test}{against}"


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| task | method | seed | candidates | initial test | " + " | ".join(f"pick: {r}" for r in PICKS) + " |",
             "|---|---|---|---|---|" + "---|" * len(PICKS)]
    means: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        lines.append(f"| {row['task']} | {row['method']} | {row['seed']} | {row['candidates']} | "
                     f"{row['initial_test']:.2f} | " + " | ".join(cell(row["rules"][r]) for r in PICKS) + " |")
        for rule in PICKS:
            if row["rules"][rule]["test"] is not None:
                means[rule].append(row["rules"][rule]["test"])
    lines += ["", "Per rule, mean test accuracy over the runs its pick was scored on (against the leader on the same "
              "test examples: the examples the pick got right and the leader wrong, then the reverse, and p):", "",
              "| rule | runs | mean test |", "|---|---|---|"]
    lines += [f"| {rule} | {len(v)} | {mean_score(v):.3f} |" for rule, v in means.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+", type=Path, help="finished run directories (made with the default rule)")
    ap.add_argument("--target", help="model spec to score a pick without test records (the run's target)")
    args = ap.parse_args(argv)
    ROW_DIR.mkdir(parents=True, exist_ok=True)
    for run_dir in args.runs:
        path = ROW_DIR / f"{row_name(run_dir)}.json"
        if path.is_file():
            print(f"{path.stem}: done before, skipped", flush=True)
            continue
        row = pick_row(run_dir, args.target)
        if any(r["test"] is None for r in row["rules"].values()):
            print(f"{path.stem}: " + "; ".join(f"{r} {cell(v)}" for r, v in row["rules"].items()))
            print(f"{path.stem}: a pick has no test records (not written: run again with --target to score it)")
            continue
        atomic_write_json(path, {"meta": harness.run_meta(), "results": row})
        print(f"{path.stem}: " + "; ".join(f"{r} {cell(v)}" for r, v in row["rules"].items()), flush=True)
    harness.tabulate_rows("final-pick", ROW_DIR, lambda r: (r["task"], r["method"], r["seed"]), table,
                          results_dir=ROW_DIR.parent)


if __name__ == "__main__":
    main()
