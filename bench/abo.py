"""ABO against the baselines on the study's four tasks, on the same test split:

zero-shot (the task's instruction), zero-shot CoT, few-shot CoT (BBH's 3-shot prompts), APO-best, ABO after step 1
and after step 2, and ABO without demonstration, with an equal LM-call budget for the APO and ABO runs.
Writes bench/results/<date>-abo.json and .md (<date>-<tag> with --tag).

    .venv/bin/python bench/abo.py --data-dir ../shared/benchmarks --max-calls 1200
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path
from typing import Any

import harness

from behavopt.core.schema import plain
from behavopt.eval import InstructionPrompt
from behavopt.eval.evaluator import EvalResult
from behavopt.eval.stats import chance_corrected
from behavopt.optimizers.behavior import adherence, demo_answer_shares
from behavopt.optimizers.candidate import Candidate, ranked
from behavopt.optimizers.settings import RunSettings, preset
from behavopt.tasks import load_task
from behavopt.tasks.types import Task

# Each optimization run the table draws on: its method and the options that set it apart.
RUNS = {"apo": ("apo", {}), "abo": ("abo", {}), "abo-no-demo": ("abo", {"abo_demo": False})}
TASKS = ["bbh:object_counting", "bbh:navigate", "bbh:snarks", "bigbench:question_selection"]
COLUMNS = ["zero-shot", "zero-shot CoT", "few-shot CoT", "APO-best", "ABO step 1", "ABO step 2",
           "ABO no demo (step 2)", "best ABO procedure (step 2)", "best no-demo procedure (step 2)",
           "APO by dev kappa", "ABO by dev kappa (step 2)"]
# (column, run, the step it picks up to, procedures only) of each column picked by dev score from one run.
DEV_PICKS = (("ABO step 1", "abo", 1, False), ("ABO step 2", "abo", 2, False),
             ("ABO no demo (step 2)", "abo-no-demo", 2, False), ("best ABO procedure (step 2)", "abo", 2, True),
             ("best no-demo procedure (step 2)", "abo-no-demo", 2, True))


def few_shot_cot(data_dir: Path, task: str) -> str | None:
    """BBH's 3-shot chain-of-thought prompt, without its canary header; None where the task has none."""
    if not task.startswith("bbh:"):
        return None
    path = data_dir / "bbh" / "cot-prompts" / f"{task.split(':', 1)[1]}.txt"
    if not path.is_file():
        return None
    text = path.read_text()
    return text.split("-----", 1)[1].strip() if "-----" in text else text.strip()


# ---- which prompt each column scores -----------------------------------------------------------------------------

def has_steps(candidate: Any) -> bool:
    """Is this one of ABO's behaviour prompts (a procedure of steps), not a plain instruction?"""
    procedure = getattr(candidate, "procedure", None)
    return procedure is not None and bool(procedure.steps)


def best_up_to(run: harness.RunFiles, step: int, procedures_only: bool = False) -> Candidate | None:
    """Best-by-dev candidate among those made up to `step` (ABO step k); ties go to the older candidate, so where no
    procedure beats the task's plain instruction (c0000) on dev, ABO's pick is that instruction. `procedures_only`
    leaves the instruction out: the best behaviour prompt ABO wrote."""
    pool = [c.id for c in run.scored_up_to(step) if not procedures_only or has_steps(c)]
    return run.state.candidates[ranked(pool, run.state.dev_scores)[0]] if pool else None


def dev_kappa(run: harness.RunFiles, task: Task, candidate_id: str) -> float:
    """A candidate's dev accuracy corrected for its own answer frequencies (Cohen's kappa), from its dev records."""
    dev = run.records(candidate_id, "dev")
    # rounded, so float noise does not break a tie
    return harness.kappa(task, [r.id for r in dev], [r.answer for r in dev], [r.score for r in dev], digits=6)


def best_by_dev_kappa(run: harness.RunFiles, task: Task, step: int) -> Candidate | None:
    """Best candidate made up to `step` by chance-corrected dev accuracy: the pick when a prompt may not win by
    giving the commoner gold answer more often. Same search, other criterion; ties go to the older candidate."""
    kappas = {c.id: dev_kappa(run, task, c.id) for c in run.scored_up_to(step)}
    return run.state.candidates[ranked(kappas, kappas)[0]] if kappas else None


def prompts_to_score(task: Task, runs: dict[str, Path], shots: str | None) -> dict[str, Any]:
    """The table's columns for one task: the baselines, and the picks from each optimization run that was made (a
    column whose run was left out is absent)."""
    read = {name: harness.RunFiles.read(path) for name, path in runs.items()}
    prompts: dict[str, Any] = {"zero-shot": InstructionPrompt(task.instruction),
                               "zero-shot CoT": InstructionPrompt(task.instruction + " Let's think step by step.")}
    if shots:
        prompts["few-shot CoT"] = InstructionPrompt(f"{shots}\n\n{task.instruction}")
    if "apo" in read:
        prompts["APO-best"] = InstructionPrompt(read["apo"].finished().best_instruction)
        prompts["APO by dev kappa"] = best_by_dev_kappa(read["apo"], task, 99)
    if "abo" in read:
        prompts["ABO by dev kappa (step 2)"] = best_by_dev_kappa(read["abo"], task, 2)
    for label, name, step, only in DEV_PICKS:
        if name in read:
            prompts[label] = best_up_to(read[name], step, only)
    return {label: p for label, p in prompts.items() if p is not None}


def run_of_column(label: str) -> str:
    """The optimization run a picked column comes from."""
    return "apo" if label.startswith("APO") else "abo-no-demo" if "no" in label else "abo"


# ---- scores ------------------------------------------------------------------------------------------------------

def column_scores(task: Task, prompt: Any, result: EvalResult) -> dict[str, Any]:
    """One column's test figures: accuracy and interval, answer chance, the answers given, and for ABO's
    candidates whether the target followed every step and how often it gave the demonstration's own answer."""
    s = result.summary
    out = {"test": s.accuracy, "n": s.n, "ci95": s.ci95, "answer_chance": s.answer_chance,
           "wall_s": round(s.wall_s, 1),  # near 0 when served from the cache:
           "cached": sum(r.cached for r in result.records) / max(1, len(result.records)),
           # A prompt can gain by moving the target's answers toward the commoner gold label: show it.
           "answers": dict(Counter(str(r.answer) for r in result.records).most_common())}
    if not has_steps(prompt):
        return out
    steps, demo_example = prompt.procedure.steps, prompt.procedure.demo_example
    followed = [adherence(r.output, len(steps)).followed for r in result.records]  # every step, in order, answered?
    out["followed_steps"] = sum(followed) / len(followed)
    if demo_example:  # does the target copy the worked example's answer?
        demo_answer = next(e.target for e in task.examples if e.id == demo_example)
        out |= demo_answer_shares(demo_answer, result.records)
    return out


def score_task(task_spec: str, args: argparse.Namespace, settings: RunSettings, runs: dict[str, Path]) -> dict:
    """One task's row: every column's test figures, the gold answers' counts, each run's usage and dev scores."""
    task = load_task(task_spec, data_dir=args.data_dir)
    prompts = prompts_to_score(task, runs, few_shot_cot(args.data_dir, task_spec))
    test = harness.splits_of(task, settings).test
    results = harness.score_prompts(task, test, args.target, prompts, settings)
    scores = {name: column_scores(task, prompts[name], result) for name, result in results.items()}
    read = {name: harness.RunFiles.read(run) for name, run in runs.items()}
    picked = {k: getattr(v, "id", None) for k, v in prompts.items()}
    return {"task": task_spec, "scores": scores, "gold_answers": dict(Counter(e.target for e in test).most_common()),
            "usage": {name: plain(r.finished().usage) for name, r in read.items()}, "prompts": picked,
            "dev": {k: read[run_of_column(k)].state.dev_scores.get(cid) for k, cid in picked.items() if cid}}


def make_runs(task_spec: str, args: argparse.Namespace, settings: RunSettings) -> dict[str, Path]:
    """The optimization runs of one task, each made once: a finished run is reused, an interrupted one resumed."""
    runs = {}
    for name in args.runs:
        method, extra = RUNS[name]
        out = harness.RUNS / f"{args.tag}-{harness.slug(task_spec)}-{name}-s{args.seed}"
        start = time.time()
        _, made = harness.reuse_or_optimize(out, task_spec, method, args.target, args.optimizer,
                                            data_dir=args.data_dir, preset=args.preset, seed=args.seed,
                                            max_calls=args.max_calls, steps=max(2, settings.search.steps), **extra)
        if made:
            print(f"  {task_spec} {name}: {time.time() - start:.0f}s", flush=True)
        runs[name] = out
    return runs


# ---- tables ------------------------------------------------------------------------------------------------------

def _top_share(counts: dict[str, int]) -> str:
    answer, k = max(counts.items(), key=lambda kv: kv[1])
    return f"{answer} {k / sum(counts.values()):.0%}"


def score_table(rows: list[dict], args: argparse.Namespace) -> list[str]:
    lines = [f"Target `{args.target}`, optimizer `{args.optimizer}`, preset `{args.preset}`, seed {args.seed}, "
             f"at most {args.max_calls} LM calls each for APO and ABO; test accuracy (n per task in the JSON); "
             "ABO cells add the share of test outputs that followed every step. ABO step k is the best-by-dev "
             "prompt ABO returns (the plain instruction where no procedure beat it on dev); 'best procedure' leaves "
             "the instruction out; 'by dev kappa' picks from the same run by chance-corrected dev accuracy "
             "instead.", "",
             "| task | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
    for r in rows:
        cells = []
        for n in COLUMNS:
            s = r["scores"].get(n)
            cells.append("-" if s is None else f"{s['test']:.3f}" + (f" ({s['followed_steps']:.0%})"
                                                                      if "followed_steps" in s else ""))
        lines.append(f"| {r['task']} | " + " | ".join(cells) + " |")
    return lines


def answer_part(name: str, s: dict) -> str:
    """One column's commonest answer, with its chance and kappa and, under a demonstration, its answer's share."""
    chance = ""
    if "answer_chance" in s:
        kappa = chance_corrected(s["test"], s["answer_chance"])
        chance = f", chance {s['answer_chance']:.2f}, kappa {kappa:+.2f}"
    copied = ""
    if "demo_answer" in s:
        copied = (f", demo's answer {s['demo_answer']} given {s['demo_answer_share']:.0%} "
                  f"(gold {s['demo_answer_gold_share']:.0%})")
    return f"{name} {_top_share(s['answers'])}{chance}{copied}"


def answer_lines(rows: list[dict]) -> list[str]:
    lines = ["", "The commonest answer and its share of test outputs, and the answer-frequency chance: the accuracy "
             "of the same answers shuffled across the examples (a prompt that moves the target toward the commoner "
             "gold label raises both; one that solves more raises its accuracy above its chance), and for prompts "
             "with a demonstration how often the target gives the demonstration's own answer:", ""]
    for r in rows:
        parts = [f"gold {_top_share(r['gold_answers'])}"] if r.get("gold_answers") else []
        parts += [answer_part(n, r["scores"][n]) for n in COLUMNS if (r["scores"].get(n) or {}).get("answers")]
        lines.append(f"- {r['task']}: " + "; ".join(parts))
    return lines


def usage_table(rows: list[dict]) -> list[str]:
    lines = ["", "| task | run | LM calls (+cached) | optimizer calls | tokens | seconds |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        for name, u in r["usage"].items():
            calls = sum(u[k].get("calls", 0) for k in ("target", "optimizer"))
            hits = sum(u[k].get("cache_hits", 0) for k in ("target", "optimizer"))
            tokens = sum(u[k].get("prompt_tokens", 0) + u[k].get("completion_tokens", 0)
                         for k in ("target", "optimizer"))
            lines.append(f"| {r['task']} | {name} | {calls} (+{hits}) | {u['optimizer'].get('calls', 0)} | "
                         f"{tokens} | {u.get('wall_s', 0):.0f} |")
    return lines


def write_tables(rows: list[dict], args: argparse.Namespace) -> str:
    """Written after every task, so a benchmark stopped part-way keeps the tasks it finished."""
    text = "\n".join(score_table(rows, args) + answer_lines(rows) + usage_table(rows))
    harness.write_results("abo" if args.tag == "abo-bench" else args.tag, rows, text)
    return text


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, {"max_calls": "the same for APO and ABO"}, tasks=TASKS,
                       data_dir=Path("../shared/benchmarks"), target="local:qwen2.5-coder-0.5b",
                       optimizer="local:qwen2.5-coder-1.5b", preset="quick", max_calls=1200, seed=0)
    ap.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS),
                    help="which optimization runs to make; columns that need a run left out are shown as '-'")
    ap.add_argument("--tag", default="abo-bench",
                    help="names the run directories and, other than the default, the result files, so a re-run "
                         "after a method change keeps the earlier runs and table")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    settings = preset(args.preset).with_overrides(seed=args.seed, max_calls=args.max_calls)
    rows = []
    for task_spec in args.tasks:
        rows.append(score_task(task_spec, args, settings, make_runs(task_spec, args, settings)))
        print(task_spec, {k: round(v["test"], 3) for k, v in rows[-1]["scores"].items()}, flush=True)
        write_tables(rows, args)
    print(write_tables(rows, args))


if __name__ == "__main__":
    main()
