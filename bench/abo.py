"""ABO against the baselines on the study's four tasks, on the same test split:

zero-shot (the task's instruction), zero-shot CoT, few-shot CoT (BBH's 3-shot prompts), APO-best, ABO after step 1
and after step 2, and ABO without demonstration, with an equal LM-call budget for the APO and ABO runs.
Writes bench/results/<date>-abo.json and .md (<date>-<tag> with --tag).

    .venv/bin/python bench/abo.py --data-dir ../shared/benchmarks --max-calls 1200
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
from collections import Counter
from pathlib import Path

from behavopt.core.paths import default_cache_path
from behavopt.eval import EvalSettings, Evaluator, InstructionPrompt
from behavopt.eval.stats import answer_chance, chance_corrected
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.optimizers.behavior import adherence
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.methods.abo import demo_answer_shares
from behavopt.optimizers.run import optimize
from behavopt.optimizers.settings import preset
from behavopt.tasks import load_task

RESULTS = Path(__file__).parent / "results"
# Each optimization run the table draws on: its method and the options that set it apart.
RUNS = {"apo": ("apo", {}), "abo": ("abo", {}), "abo-no-demo": ("abo", {"abo_demo": False})}
TASKS = ["bbh:object_counting", "bbh:navigate", "bbh:snarks", "bigbench:question_selection"]


def few_shot_cot(data_dir: Path, task: str) -> str | None:
    """BBH's 3-shot chain-of-thought prompt, without its canary header; None where the task has none."""
    if not task.startswith("bbh:"):
        return None
    path = data_dir / "bbh" / "cot-prompts" / f"{task.split(':', 1)[1]}.txt"
    if not path.is_file():
        return None
    text = path.read_text()
    return text.split("-----", 1)[1].strip() if "-----" in text else text.strip()


async def score_prompts(task_spec: str, data_dir: Path, target: str, prompts: dict[str, object], seed: int,
                        settings) -> tuple[dict[str, dict], dict[str, int]]:
    """Each prompt's test accuracy (and answers given), and the gold answers' counts on the test split."""
    task = load_task(task_spec, data_dir=data_dir)
    test = task.split(settings.data.train_size, settings.data.dev_size, settings.data.test_size, seed=seed).test
    out = {}
    async with ModelPool(cache=ResponseCache(default_cache_path())) as pool:
        evaluator = Evaluator(task, pool.lm(target, "target"),
                              EvalSettings(max_tokens=settings.models.target_max_tokens, seed=seed))
        for name, prompt in prompts.items():
            result = await evaluator.evaluate(prompt, test, split="test")  # type: ignore[arg-type]
            out[name] = {"test": result.summary.accuracy, "n": result.summary.n, "ci95": result.summary.ci95,
                         "answer_chance": result.summary.answer_chance,
                         "wall_s": round(result.summary.wall_s, 1),  # near 0 when served from the cache:
                         "cached": sum(r.cached for r in result.records) / max(1, len(result.records)),
                         # A prompt can gain by moving the target's answers toward the commoner gold label: show it.
                         "answers": dict(Counter(str(r.answer) for r in result.records).most_common())}
            steps = getattr(prompt, "meta", {}).get("steps")
            if steps:  # ABO candidates: did the target write every step, in order, with an answer line?
                followed = [adherence(r.output, len(steps)).followed for r in result.records]
                out[name]["followed_steps"] = sum(followed) / len(followed)
            demo_example = getattr(prompt, "meta", {}).get("demo_example")
            if demo_example:  # does the target copy the worked example's answer?
                demo_answer = next(e.target for e in task.examples if e.id == demo_example)
                out[name] |= demo_answer_shares(demo_answer, result.records)
    return out, dict(Counter(e.target for e in test).most_common())


def best_up_to(run_dir: Path, step: int, procedures_only: bool = False) -> Candidate | None:
    """Best-by-dev candidate among those made up to `step` (ABO step k); ties go to the older candidate, so where no
    procedure beats the task's plain instruction (c0000) on dev, ABO's pick is that instruction. `procedures_only`
    leaves the instruction out: the best behaviour prompt ABO wrote."""
    cp = json.loads((run_dir / "checkpoint.json").read_text())
    partial = set(cp.get("strategy", {}).get("partial", []))
    cands = [Candidate.from_dict(c) for c in cp["candidates"] if c["step"] <= step and c["id"] not in partial
             and c["id"] in cp["dev_scores"] and (not procedures_only or (c.get("meta") or {}).get("steps"))]
    return max(cands, key=lambda c: (cp["dev_scores"][c.id], -int(c.id[1:]))) if cands else None


def best_by_dev_kappa(run_dir: Path, task, step: int) -> Candidate | None:
    """Best candidate made up to `step` by chance-corrected dev accuracy (Cohen's kappa against its own answer
    frequencies), read from the run's dev records: the pick when a prompt may not win by giving the commoner gold
    answer more often. Same search, other criterion; ties go to the older candidate."""
    cp = json.loads((run_dir / "checkpoint.json").read_text())
    partial = set(cp.get("strategy", {}).get("partial", []))  # stopped early on a minibatch: not on all of dev
    by_id = {e.id: e for e in task.examples}
    best, best_key = None, None
    for c in cp["candidates"]:
        if c["step"] > step or c["id"] in partial or c["id"] not in cp["dev_scores"]:
            continue
        path = run_dir / "records" / f"{c['id']}.jsonl"
        dev = [r for r in map(json.loads, path.read_text().splitlines()) if r["split"] == "dev"]
        accuracy = sum(r["correct"] for r in dev) / len(dev)
        chance = answer_chance([r["answer"] for r in dev], [by_id[r["id"]] for r in dev], task.metric)
        key = (round(chance_corrected(accuracy, chance), 6), -int(c["id"][1:]))
        if best_key is None or key > best_key:
            best, best_key = Candidate.from_dict(c), key
    return best


def prompts_to_score(task, runs: dict[str, Path], shots: str | None) -> dict[str, object]:
    """The table's columns for one task: the baselines, and the picks from each optimization run that was made (a
    column whose run was left out is absent)."""
    prompts: dict[str, object] = {"zero-shot": InstructionPrompt(task.instruction),
                                  "zero-shot CoT": InstructionPrompt(task.instruction + " Let's think step by step.")}
    if shots:
        prompts["few-shot CoT"] = InstructionPrompt(f"{shots}\n\n{task.instruction}")
    if "apo" in runs:
        apo = json.loads((runs["apo"] / "result.json").read_text())
        prompts["APO-best"] = InstructionPrompt(apo["best_prompt"])
        prompts["APO by dev kappa"] = best_by_dev_kappa(runs["apo"], task, 99)
    if "abo" in runs:
        prompts["ABO by dev kappa (step 2)"] = best_by_dev_kappa(runs["abo"], task, 2)
    for label, name, step, only in (("ABO step 1", "abo", 1, False), ("ABO step 2", "abo", 2, False),
                                    ("ABO no demo (step 2)", "abo-no-demo", 2, False),
                                    ("best ABO procedure (step 2)", "abo", 2, True),
                                    ("best no-demo procedure (step 2)", "abo-no-demo", 2, True)):
        if name in runs:
            prompts[label] = best_up_to(runs[name], step, only)
    return {label: p for label, p in prompts.items() if p is not None}


def _top_share(counts: dict[str, int]) -> str:
    answer, k = max(counts.items(), key=lambda kv: kv[1])
    return f"{answer} {k / sum(counts.values()):.0%}"


def write_tables(rows: list[dict], args: argparse.Namespace) -> str:
    """Written after every task, so a benchmark stopped part-way keeps the tasks it finished."""
    names = ["zero-shot", "zero-shot CoT", "few-shot CoT", "APO-best", "ABO step 1", "ABO step 2",
             "ABO no demo (step 2)", "best ABO procedure (step 2)", "best no-demo procedure (step 2)",
             "APO by dev kappa", "ABO by dev kappa (step 2)"]
    lines = [f"Target `{args.target}`, optimizer `{args.optimizer}`, preset `{args.preset}`, seed {args.seed}, "
             f"at most {args.max_calls} LM calls each for APO and ABO; test accuracy (n per task in the JSON); "
             "ABO cells add the share of test outputs that followed every step. ABO step k is the best-by-dev prompt ABO "
             "returns (the plain instruction where no procedure beat it on dev); 'best procedure' leaves the "
             "instruction out; 'by dev kappa' picks from the same run by chance-corrected dev accuracy instead.", "",
             "| task | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for r in rows:
        cells = []
        for n in names:
            s = r["scores"].get(n)
            cells.append("-" if s is None else f"{s['test']:.3f}" + (f" ({s['followed_steps']:.0%})"
                                                                      if "followed_steps" in s else ""))
        lines.append(f"| {r['task']} | " + " | ".join(cells) + " |")
    lines += ["", "The commonest answer and its share of test outputs, and the answer-frequency chance: the accuracy "
              "of the same answers shuffled across the examples (a prompt that moves the target toward the commoner "
              "gold label raises both; one that solves more raises its accuracy above its chance), and for prompts "
              "with a demonstration how often the target gives the demonstration's own answer:", ""]
    for r in rows:
        parts = [f"gold {_top_share(r['gold_answers'])}"] if r.get("gold_answers") else []
        for n in names:
            s = r["scores"].get(n)
            if s and s.get("answers"):
                chance = ""
                if "answer_chance" in s:
                    kappa = chance_corrected(s["test"], s["answer_chance"])
                    chance = f", chance {s['answer_chance']:.2f}, kappa {kappa:+.2f}"
                copied = ""
                if "demo_answer" in s:
                    copied = (f", demo's answer {s['demo_answer']} given {s['demo_answer_share']:.0%} "
                              f"(gold {s['demo_answer_gold_share']:.0%})")
                parts.append(f"{n} {_top_share(s['answers'])}{chance}{copied}")
        lines.append(f"- {r['task']}: " + "; ".join(parts))
    lines += ["", "| task | run | LM calls (+cached) | optimizer calls | tokens | seconds |", "|---|---|---|---|---|---|"]
    for r in rows:
        for name, u in r["usage"].items():
            calls = sum(u[k].get("calls", 0) for k in ("target", "optimizer"))
            hits = sum(u[k].get("cache_hits", 0) for k in ("target", "optimizer"))
            tokens = sum(u[k].get("prompt_tokens", 0) + u[k].get("completion_tokens", 0)
                         for k in ("target", "optimizer"))
            lines.append(f"| {r['task']} | {name} | {calls} (+{hits}) | {u['optimizer'].get('calls', 0)} | "
                         f"{tokens} | {u.get('wall_s', 0):.0f} |")
    suffix = "abo" if args.tag == "abo-bench" else args.tag
    stem = RESULTS / f"{dt.date.today().isoformat()}-{suffix}"
    stem.with_name(stem.name + ".json").write_text(json.dumps(rows, indent=2) + "\n")
    stem.with_name(stem.name + ".md").write_text("\n".join(lines) + "\n")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=TASKS)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/benchmarks"))
    ap.add_argument("--target", default="local:qwen2.5-coder-0.5b")
    ap.add_argument("--optimizer", default="local:qwen2.5-coder-1.5b")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--max-calls", type=int, default=1200, help="the same LM-call budget for APO and ABO")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", nargs="+", choices=RUNS, default=list(RUNS),
                    help="which optimization runs to make; columns that need a run left out are shown as '-'")
    ap.add_argument("--tag", default="abo-bench",
                    help="names the run directories and, other than the default, the result files, so a re-run "
                         "after a method change keeps the earlier runs and table")
    args = ap.parse_args()
    settings = preset(args.preset).with_overrides(seed=args.seed, max_calls=args.max_calls)
    rows = []
    for task_spec in args.tasks:
        runs = {}
        for name in args.runs:
            method, extra = RUNS[name]
            out = RESULTS / "runs" / f"{args.tag}-{task_spec.replace(':', '_')}-{name}-s{args.seed}"
            if not (out / "result.json").is_file():
                start = time.time()
                optimize(task_spec, method, args.target, args.optimizer, out=out,
                         resume=(out / "config.json").is_file(), data_dir=args.data_dir, preset=args.preset,
                         seed=args.seed, max_calls=args.max_calls, steps=max(2, settings.search.steps), **extra)
                print(f"  {task_spec} {name}: {time.time() - start:.0f}s", flush=True)
            runs[name] = out
        task = load_task(task_spec, data_dir=args.data_dir)
        prompts = prompts_to_score(task, runs, few_shot_cot(args.data_dir, task_spec))
        scores, gold = asyncio.run(score_prompts(task_spec, args.data_dir, args.target, prompts, args.seed, settings))
        usage = {name: json.loads((run / "result.json").read_text())["usage"] for name, run in runs.items()}
        dev = {name: json.loads((run / "checkpoint.json").read_text())["dev_scores"] for name, run in runs.items()}
        picked = {k: getattr(v, "id", None) for k, v in prompts.items()}
        rows.append({"task": task_spec, "scores": scores, "gold_answers": gold, "usage": usage, "prompts": picked,
                     "dev": {k: dev["apo" if k.startswith("APO") else "abo-no-demo" if "no" in k else "abo"].get(cid)
                             for k, cid in picked.items() if cid}})
        print(task_spec, {k: round(v["test"], 3) for k, v in scores.items()}, flush=True)
        write_tables(rows, args)
    print(write_tables(rows, args))


if __name__ == "__main__":
    main()
