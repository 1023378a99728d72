"""Pseudo errors: correctly answered examples dressed up as errors, to test whether the optimizer's feedback depends
on the errors it is shown. If feedback on pseudo errors reads like feedback on real ones, the optimizer is reciting
its priors rather than reflecting on the errors.

A pseudo error keeps the example (input and gold answer) and replaces the target's prediction with a plausible wrong
answer of the task's kind:

    binary (two options, e.g. Yes/No)   the other option's label
    multiple choice ((A)..(E), ...)     another option's label, drawn at random
    number                              gold ± 1..max_offset in its last decimal place (integers stay integers,
                                        non-negative golds stay non-negative), drawn at random
    free text (and anything else)       another example's gold answer from the task, drawn at random

A fake is only used if the task's own metric scores it wrong, and the rewritten output, run through the task's own
extractor and metric, is scored wrong too; otherwise the next candidate fake is tried. Records with no usable fake
(e.g. a text task where every example has the same gold) are not eligible.

The output is rewritten in one of two documented ways (`output_mode`):

    "answer_only" (default)  the whole output becomes f"Answer: {fake}". The optimizer sees a wrong answer with no
                             reasoning, so nothing in the output contradicts the fake answer.
    "last_answer"            the reasoning is kept and the answer on the last answer line ("Answer: ...",
                             "The answer is ...") is replaced by the fake; without such a line, "Answer: {fake}" is
                             appended. Closer in form to a real error, but the reasoning still leads to the gold
                             answer. If the extractor would not read the fake back, "answer_only" is used instead
                             and PseudoError.output_mode says so.

Randomness is seeded per record (seed and example id), so a record's fake does not change with which other records
are selected or with their order; the selection of n records uses its own seeded draw.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Sequence

from behavopt.tasks.types import AnswerType, Example, Task

if TYPE_CHECKING:  # only for annotations: the evaluator module pulls in the LM client stack
    from behavopt.eval.evaluator import EvalRecord

OutputMode = Literal["answer_only", "last_answer"]
FakeKind = Literal["binary", "choice", "number", "text"]

# The last answer line: "Answer: X", "**Final answer:** X", "The answer is X". The head is kept, X is replaced.
_ANSWER_LINE = re.compile(r"^(?P<head>.*?\b(?:final\s+)?answer\b\s*(?:is\b|was\b|:|=)[*_]*\s*:?[ \t]*)(?P<ans>\S.*)$",
                          re.I)


@dataclass(frozen=True)
class PseudoError:
    """A correctly answered record made to look wrong. `record` is what the optimizer is shown (correct=False, answer
    and output carrying the fake); the originals are kept so analyses can tell pseudo errors from real ones."""

    record: "EvalRecord"
    original_answer: str | None
    original_output: str | None
    kind: FakeKind
    output_mode: OutputMode

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def fake_answer(self) -> str:
        return self.record.answer or ""


# --- candidate fakes ---------------------------------------------------------------------------------------------

def _number_fakes(gold: float, rng: random.Random, max_offset: int) -> list[str]:
    """Numbers near `gold`, differing in its last decimal place by 1..max_offset, in a seeded random order."""
    from behavopt.tasks.answers import format_number

    # Work in units of the gold's last decimal place, exactly (Decimal), so 0.1 + 0.2 troubles cannot arise.
    exact = Decimal(format_number(gold))
    places = max(0, -int(exact.as_tuple().exponent))
    units = int(exact.scaleb(places))
    offsets = [k for k in range(-max_offset, max_offset + 1) if k != 0]
    rng.shuffle(offsets)
    out = []
    for k in offsets:
        fake_units = units + k
        if units >= 0 > fake_units:
            continue  # counts, ages and prices do not turn negative: a negative fake would be implausible
        value = Decimal(fake_units).scaleb(-places)
        out.append(f"{value:f}" if places else str(fake_units))
    return out


def _candidates(example: Example, task: Task, pool: Sequence[str], rng: random.Random,
                max_offset: int) -> tuple[FakeKind, list[str]]:
    """The kind of fake for this example and its candidate fakes, best first (seeded order)."""
    from behavopt.tasks.answers import normalize, to_number

    if task.answer_type is AnswerType.NUMBER:
        gold = to_number(example.target)
        if gold is not None:
            return "number", _number_fakes(gold, rng, max_offset)
    if len(example.options) >= 2:
        labels = list(dict.fromkeys(label for label, _ in example.options))
        if len(labels) == 2:
            return "binary", labels
        rng.shuffle(labels)
        return "choice", labels
    # Free text: another example's gold answer, distinct from this one's.
    own = {normalize(a) for a in example.acceptable}
    others = list(dict.fromkeys(g for g in pool if normalize(g) not in own))
    rng.shuffle(others)
    return "text", others


def _rewrite(output: str | None, fake: str, mode: OutputMode) -> str:
    if mode == "answer_only" or not output:
        return f"Answer: {fake}"
    lines = output.splitlines()
    for k in range(len(lines) - 1, -1, -1):
        m = _ANSWER_LINE.match(lines[k])
        if m:
            lines[k] = m.group("head") + fake
            return "\n".join(lines)
    return output.rstrip() + f"\nAnswer: {fake}"


def _fake_for(record: "EvalRecord", example: Example, task: Task, pool: Sequence[str], seed: int | str,
              mode: OutputMode, max_offset: int) -> PseudoError | None:
    rng = random.Random(f"pseudo:{seed}:{record.id}")
    kind, candidates = _candidates(example, task, pool, rng, max_offset)
    for fake in candidates:
        if task.metric(fake, example):
            continue  # the gold itself, or another acceptable answer
        for used in ((mode, "answer_only") if mode == "last_answer" else (mode,)):
            output = _rewrite(record.output, fake, used)
            if not task.is_correct(output, example)[1]:
                fake_record = replace(record, output=output, answer=fake, correct=False, score=0.0, error=None)
                return PseudoError(record=fake_record, original_answer=record.answer, original_output=record.output,
                                   kind=kind, output_mode=used)
    return None


# --- public ------------------------------------------------------------------------------------------------------

def make_pseudo_errors(records: Sequence["EvalRecord"], task: Task, *, n: int | None = None, seed: int | str = 0,
                       output_mode: OutputMode = "answer_only", max_offset: int = 3) -> list[PseudoError]:
    """Turn correctly answered records into pseudo errors (see the module docstring for how fakes are made).

    records:  evaluation records of `task` (any mix; only correct ones with an output are used).
    n:        how many to make, drawn with a seeded sample from the eligible records; None for all of them.
    seed:     the same seed and inputs always give the same pseudo errors.
    Returns them in the order of `records`. Raises ValueError when fewer than n (or, for n=None, no) records are
    eligible, or a record's id is not an example of the task.
    """
    if output_mode not in ("answer_only", "last_answer"):
        raise ValueError(f"unknown output_mode '{output_mode}': use 'answer_only' or 'last_answer'")
    if max_offset < 1:
        raise ValueError(f"max_offset must be >= 1, got {max_offset}")
    if n is not None and n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    examples = {e.id: e for e in task.examples}
    pool = [e.target for e in task.examples]
    correct = [r for r in records if r.correct and r.output is not None]
    unknown = [r.id for r in correct if r.id not in examples]
    if unknown:
        raise ValueError(f"records for examples not in task '{task.name}': {unknown[:5]}")
    made = [_fake_for(r, examples[r.id], task, pool, seed, output_mode, max_offset) for r in correct]
    eligible = [p for p in made if p is not None]
    need = 1 if n is None else n
    if len(eligible) < need:
        no_fake = len(correct) - len(eligible)
        raise ValueError(
            f"pseudo errors: {'at least 1' if n is None else n} needed but only {len(eligible)} correctly answered "
            f"records can be made wrong "
            f"({len(correct)} correct of {len(records)} records, {no_fake} with no possible wrong answer): "
            f"pass more records or a smaller n")
    if n is None:
        return eligible
    chosen = set(random.Random(f"pseudo-select:{seed}").sample(range(len(eligible)), n))
    return [p for k, p in enumerate(eligible) if k in chosen]
