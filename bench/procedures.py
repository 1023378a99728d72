"""Can a procedure help this target at all? Hand-written behaviour prompts against the task's instruction.

ABO can only win where some procedure, followed by the target, answers better than the plain instruction. This
bench scores hand-written procedures (each with one demonstration, shown as chat turns as ABO does, and checked
by ABO's own demonstration check) on the quick preset's test split, so a failing ABO run can be told apart from a
target that no procedure helps. Writes bench/results/<date>-procedures.json and .md (<date>-<name> with --name).

    .venv/bin/python bench/procedures.py --data-dir ../shared/benchmarks
    .venv/bin/python bench/procedures.py --target local:qwen2.5-coder-1.5b --name procedures-qwen1.5b
    .venv/bin/python bench/procedures.py --tasks bbh:navigate --name procedures-navigate
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import harness

from behavopt.eval import InstructionPrompt
from behavopt.eval.evaluator import EvalResult
from behavopt.eval.stats import chance_corrected
from behavopt.lm.types import Message
from behavopt.optimizers.behavior import adherence, demo_problem, procedure_text
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.settings import preset
from behavopt.tasks import load_task
from behavopt.tasks.types import Splits, Task

# Steps and worked outputs that a one-demonstration entry and its two-demonstration variant share.
LIST_THEN_ADD = ["List each item of the kind the question asks about, one per line, with its quantity in parentheses.",
                 "Add the quantities in parentheses, writing the sum."]
LIST_THEN_ADD_5 = "Step 1: nectarines (2), strawberry (1), peach (1), grape (1)\nStep 2: 2 + 1 + 1 + 1 = 5\nAnswer: 5"
SIGNED_TOTALS = ["Write every move as a signed number of steps on two axes: forward +F, backward -F, right +R, left -R "
                 "(after a turn, write the move in the directions you faced at the start).",
                 "Add the F numbers and, separately, the R numbers.",
                 "Write Yes if both totals are 0, otherwise No."]
SIGNED_TOTALS_YES = "Step 1: -7 F, +6 F, -6 F, +7 F\nStep 2: F: -7 + 6 - 6 + 7 = 0; R: 0\nStep 3: Yes\nAnswer: Yes"

# Per task: name -> (steps, the train example worked through (its index in the quick split), the worked output), or
# (steps, [(index, worked output), ...]) for several demonstrations, shown as turns in that order.
# The object_counting procedures each break the count down differently: list then add, a running total, and one
# line per unit numbered in order (the finer breakdown ABO's refinement aims at when the sum is the failing step).
PROCEDURES: dict[str, dict[str, tuple]] = {
    "bbh:object_counting": {
        "list-then-add": (
            LIST_THEN_ADD, 23, LIST_THEN_ADD_5),
        "running-total": (
            ["Write the kind of thing the question asks about.",
             "Go through the items in order; for each one of that kind, write the item and the running total so far.",
             "Write the final running total."],
            23, "Step 1: fruits\nStep 2: nectarines 2 (total 2), strawberry 1 (total 3), peach 1 (total 4), grape 1 "
                "(total 5)\nStep 3: 5\nAnswer: 5"),
        "one-line-per-unit": (
            ["Write the kind of thing the question asks about.",
             "Go through the items in order and skip every item that is not of that kind.",
             "Write each item of that kind once for every unit it counts (two apples are apple, apple), numbering "
             "them 1, 2, 3, and so on.",
             "Write the last number."],
            23, "Step 1: fruits\nStep 2: nectarines (two), strawberry, peach, grape\nStep 3: 1 nectarine, "
                "2 nectarine, 3 strawberry, 4 peach, 5 grape\nStep 4: 5\nAnswer: 5"),
        # list-then-add with a second demonstration of another answer: does copying the one answer (5) go away?
        "list-then-add-two-demos": (
            LIST_THEN_ADD,
            [(23, LIST_THEN_ADD_5),
             (22, "Step 1: banana (1), raspberries (2), blackberries (3), apple (1), orange (1)\n"
                  "Step 2: 1 + 2 + 3 + 1 + 1 = 8\nAnswer: 8")]),
    },
    # Navigate: Qwen-0.5B answers "No" to every question with the instruction. Two ways to track where you are, one
    # demonstrated on a "Yes" example and one on a "No" example, so copying the demonstration's answer shows.
    "bbh:navigate": {
        "signed-totals": (
            SIGNED_TOTALS, 1, SIGNED_TOTALS_YES),
        "position-per-line": (
            ["Start at (0, 0) facing forward; after each instruction write the position (right, forward) and the "
             "way you face.",
             "Write the last position.",
             "Write Yes if it is (0, 0), otherwise No."],
            7, "Step 1: Take 6 steps: (0, 6) facing forward; Take 8 steps: (0, 14) facing forward; Take 7 steps: "
               "(0, 21) facing forward; Turn around: (0, 21) facing backward; Take 6 steps: (0, 15) facing "
               "backward\nStep 2: (0, 15)\nStep 3: No\nAnswer: No"),
        # The same with a second demonstration answering the other way: does the target still copy one answer?
        "signed-totals-two-demos": (
            SIGNED_TOTALS,
            [(9, "Step 1: +8 F, -5 F, -5 R, +5 F\nStep 2: F: 8 - 5 + 5 = 8; R: -5\nStep 3: No\nAnswer: No"),
             (1, SIGNED_TOTALS_YES)]),
    },
}


def worked_examples(entry: tuple) -> list[tuple[int, str]]:
    """(train index, worked output) of each demonstration of a PROCEDURES entry, in the order they are shown."""
    _, *demo_spec = entry
    return list(demo_spec[0]) if len(demo_spec) == 1 else [(demo_spec[0], demo_spec[1])]


def hand_prompt(task_spec: str, task: Task, splits: Splits, name: str) -> tuple[Candidate, int, str | None]:
    """PROCEDURES[task_spec][name] as ABO would show it (steps, demonstrations as chat turns), with its number of
    steps and the demonstrations' answer (None where they answer differently: copying "the" demonstration's answer
    is not defined then)."""
    entry = PROCEDURES[task_spec][name]
    steps, demos = entry[0], []
    for index, worked in worked_examples(entry):
        example = splits.train[index]
        problem = demo_problem(task, example, worked, steps)
        if problem:  # the bench's own demonstrations must pass the check ABO applies to the optimizer's
            raise SystemExit(f"{task_spec} {name}: the demonstration fails ABO's check: {problem}")
        demos += [Message("user", example.input), Message("assistant", worked)]
    candidate = Candidate(f"hand-{name}", procedure_text(task, steps), None, 0, "hand", demos=tuple(demos),
                          style="turns")
    answers = {splits.train[index].target for index, _ in worked_examples(entry)}
    return candidate, len(steps), answers.pop() if len(answers) == 1 else None


def prompt_row(result: EvalResult, n_steps: int, demo_answer: str | None, steps: list[str] | None) -> dict[str, Any]:
    s = result.summary
    answers = Counter(r.answer for r in result.records)
    top, top_n = answers.most_common(1)[0]
    return {"test": s.accuracy, "n": s.n, "ci95": s.ci95,
            # Accuracy over what the same answers shuffled across the inputs get: 0 for guessing.
            "kappa": round(chance_corrected(s.accuracy, s.answer_chance), 3),
            "commonest_answer": top, "commonest_share": round(top_n / s.n, 3),
            "followed_steps": (round(sum(adherence(r.output, n_steps).followed for r in result.records) / s.n, 3)
                               if n_steps else None),
            "demo_answer_share": round(answers[demo_answer] / s.n, 3) if demo_answer is not None else None,
            "steps": steps}


def progress(task_spec: str) -> harness.Scored:
    def line(name: str, result: EvalResult) -> None:
        s = result.summary
        top, top_n = Counter(r.answer for r in result.records).most_common(1)[0]
        print(f"{task_spec} {name}: test {s.accuracy:.2f} (n={s.n}), commonest answer {top} {top_n}/{s.n}",
              flush=True)

    return line


def score(task_spec: str, data_dir: Path, target: str, seed: int) -> dict:
    """The task's instruction and each hand-written procedure on the quick preset's test split."""
    settings = preset("quick").with_overrides(seed=seed)
    task = load_task(task_spec, data_dir=data_dir)
    splits = harness.splits_of(task, settings)
    prompts: dict[str, tuple[Any, int, str | None]] = {"instruction": (InstructionPrompt(task.instruction), 0, None)}
    prompts |= {name: hand_prompt(task_spec, task, splits, name) for name in PROCEDURES[task_spec]}
    results = harness.score_prompts(task, splits.test, target, {name: p[0] for name, p in prompts.items()}, settings,
                                    on_scored=progress(task_spec))
    rows = {name: prompt_row(result, prompts[name][1], prompts[name][2],
                             PROCEDURES[task_spec][name][0] if prompts[name][1] else None)
            for name, result in results.items()}
    return {"gold_commonest": Counter(e.target for e in splits.test).most_common(1)[0], "prompts": rows}


def markdown(results: dict[str, dict], args: argparse.Namespace) -> str:
    lines = [f"Target `{args.target}`, quick preset's test split (seed {args.seed}); each procedure with one "
             "hand-written demonstration (two for '-two-demos') shown as chat turns, passing ABO's demonstration "
             "check; kappa: accuracy corrected for the answer frequencies (0: no better than the same answers shuffled "
             "across the inputs); 'demo's answer given' is left out where the demonstrations answer differently.", "",
             "| task | prompt | test | 95 % CI | kappa | followed every step | commonest answer "
             "| demo's answer given |",
             "|---|---|---|---|---|---|---|---|"]
    for task, res in results.items():
        for name, r in res["prompts"].items():
            lo, hi = r["ci95"]
            lines.append(f"| {task} | {name} | {r['test']:.2f} | {lo:.2f}-{hi:.2f} | {r['kappa']:+.2f} | "
                         f"{'-' if r['followed_steps'] is None else format(r['followed_steps'], '.0%')} | "
                         f"{r['commonest_answer']} ({r['commonest_share']:.0%}) | "
                         f"{'-' if r['demo_answer_share'] is None else format(r['demo_answer_share'], '.0%')} |")
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, tasks=list(PROCEDURES), target="local:qwen2.5-coder-0.5b", seed=0,
                       data_dir=Path("../shared/benchmarks"), name="procedures")
    args = ap.parse_args()
    unknown = [t for t in args.tasks if t not in PROCEDURES]
    if unknown:
        raise SystemExit(f"no hand-written procedures for {', '.join(unknown)}: use one of {', '.join(PROCEDURES)}")
    return args


def main() -> None:
    args = parse_args()
    results = {t: score(t, args.data_dir, args.target, args.seed) for t in args.tasks}
    table = markdown(results, args)
    harness.write_results(args.name, {"target": args.target, "seed": args.seed, "tasks": results}, table)
    print(table, end="")


if __name__ == "__main__":
    main()
