"""A demonstration: one train example worked through every step to its gold answer. The checks that it is fit to
show the target, and the figures that tell whether the target copies its answer instead of following the steps."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from behavopt.optimizers.behavior.steps import ANSWER_LINE, normalized, parse_step_output, parsed_adherence
from behavopt.tasks.answers import last_number, normalize, number_match
from behavopt.tasks.types import AnswerType, Example, Task

if TYPE_CHECKING:  # only for annotations
    from behavopt.eval.evaluator import EvalRecord

# The target writes about as much as its demonstration shows, so a demonstration leaves a quarter of the target's
# token budget for longer inputs to still reach their answer line.
DEMO_SHARE_OF_TARGET_TOKENS = 0.75
CHARS_PER_TOKEN = 4  # English text in the Qwen and SmolLM2 tokenizers: about 4-5 characters a token


def demo_problem(task: Task, example: Example, output: str, steps: list[str] | tuple[str, ...]) -> str | None:
    """Why a demonstration cannot be shown (None when it can): it must write every step once, in order, with that
    step's result for this input, and reach the gold answer, or the target learns a wrong behaviour from it. A
    numeric answer must be worked out: the last number the steps write is the answer."""
    parsed = parse_step_output(output)
    adh = parsed_adherence(parsed, len(steps))
    if not all(adh.present):
        return f"step {adh.first_missing} is missing"
    if not adh.in_order:
        return "steps are out of order"
    if not adh.has_answer:
        return "no final 'Answer:' line"
    written = [(n, text) for n, text in parsed.steps if not ANSWER_LINE.match(text)]
    counts = Counter(n for n, _ in written)
    repeated = next((n for n, k in sorted(counts.items()) if k > 1), None)
    if repeated is not None:
        return f"step {repeated} is written {counts[repeated]} times"
    extra = next((n for n in sorted(counts) if not 1 <= n <= len(steps)), None)
    if extra is not None:
        return f"step {extra} is not in the procedure, which has {len(steps)} steps"
    # The last step may restate itself ("Give the answer.") since the answer line below is its result.
    echoed = next((n for n, text in written if n < len(steps) and normalized(text) == normalized(steps[n - 1])), None)
    if echoed is not None:
        return f"step {echoed} restates the step instead of giving its result for this input"
    answer, correct = task.is_correct(output, example)
    if not correct:
        return f"reaches {answer!r}, not the gold answer {example.target!r}"
    if task.answer_type is AnswerType.NUMBER:
        worked = last_number("\n".join(text for _, text in written))
        if worked is None or not number_match(worked, example):
            return f"the steps work out {worked or 'no number'}, not the answer {example.target}"
    return None


def demo_length_problem(output: str, target_max_tokens: int) -> str | None:
    """Why a demonstration is too long for the target to follow within its token budget, or None."""
    limit = int(target_max_tokens * DEMO_SHARE_OF_TARGET_TOKENS)
    tokens = -(-len(output) // CHARS_PER_TOKEN)  # rounded up
    if tokens <= limit:
        return None
    return (f"about {tokens} tokens long: a target that may write {target_max_tokens} would be cut off before its "
            f"answer (at most {limit})")


def clean_demo(output: str) -> str:
    """Keep only the labelled steps and the answer line of a demonstration, dropping chatter around them."""
    parsed = parse_step_output(output)
    lines = [f"Step {n}: {t}" for n, t in parsed.steps]
    if parsed.answer_line:
        lines.append(parsed.answer_line.strip("*# ").replace("**", ""))
    return "\n".join(lines)


def copied_demo_answer(demo_answer: str | None, errors: list["EvalRecord"]) -> str | None:
    """The demonstration's answer when most of the errors shown (two at least) give it: the target copied the worked
    example instead of following the steps."""
    if not demo_answer:
        return None
    same = normalize(demo_answer)
    copies = sum(r.answer is not None and normalize(r.answer) == same for r in errors)
    return demo_answer if copies >= 2 and copies * 2 > len(errors) else None


def demo_answer_shares(demo_answer: str | None, records: list["EvalRecord"]) -> dict[str, Any]:
    """How often the target gives the demonstration's own answer, against how often that answer is right: a small
    target may copy the one worked example's answer."""
    if not demo_answer or not records:
        return {}
    same = normalize(demo_answer)
    return {"demo_answer": demo_answer,
            "demo_answer_share": round(sum(normalize(r.answer or "") == same for r in records) / len(records), 4),
            "demo_answer_gold_share": round(sum(normalize(r.target) == same for r in records) / len(records), 4)}
