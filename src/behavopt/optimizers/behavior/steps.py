"""A target's step-labelled output: its steps and answer line, whether it followed the procedure (adherence), and
each step beside what the target wrote for it (for failing-step localisation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations
    from behavopt.eval.evaluator import EvalRecord

# The parts of a step label, shared by every pattern that reads one: "Step", its number, then a separator.
STEP_WORD = r"^\s*[*#>\s]*step\s*"  # markdown (bold, heading, quote) may come before it
STEP_SEP = r"\s*(?:\*\*)?\s*[:.)\-–]\s*(?:\*\*)?\s*"
# "Step 3: ...", "**Step 3.** ...", "step 3 - ..."
STEP_LINE = re.compile(STEP_WORD + r"(\d+)" + STEP_SEP + r"(.*)$", re.I)
ANSWER_LINE = re.compile(r"^\s*[*#>\s]*(?:final\s+)?answer\s*[:\-]", re.I)
STEP_SHOWN_CHARS = 400  # of one step's text in a localisation prompt; a rambling step would crowd out the rest


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def normalized(step: str) -> str:
    """A step's words only, for comparing steps regardless of case, punctuation and spacing."""
    return " ".join(words(step))


@dataclass(frozen=True)
class StepOutput:
    steps: tuple[tuple[int, str], ...]  # (step number, text) in the order written
    answer_line: str | None

    def text_of(self, step: int) -> str | None:
        return next((t for n, t in self.steps if n == step), None)


def parse_step_output(text: str) -> StepOutput:
    """Split a target's output into labelled steps and the final answer line; tolerant of markdown and noise."""
    steps: list[tuple[int, str]] = []
    answer = None
    in_step = False
    for line in (text or "").splitlines():
        m = STEP_LINE.match(line)
        if m:
            steps.append((int(m.group(1)), m.group(2).strip()))
            in_step = True
            if ANSWER_LINE.match(m.group(2)):  # "Step 6: Answer: 8" is the last step and the answer line
                answer, in_step = m.group(2).strip(), False
        elif ANSWER_LINE.match(line):
            answer, in_step = line.strip(), False
        elif in_step and line.strip():
            number, so_far = steps[-1]  # a step's text may run over several lines
            steps[-1] = (number, f"{so_far}\n{line.strip()}".strip())
    return StepOutput(tuple(steps), answer)


def written_when_right(records: list["EvalRecord"], step: int, k: int) -> list[str]:
    """What the target wrote for Step `step` in up to k correctly answered records, in their order, one line each:
    what a step looks like when it works, to set beside the errors."""
    shown: list[str] = []
    for record in records:
        if len(shown) >= k:
            break
        wrote = parse_step_output(record.output or "").text_of(step) if record.correct else None
        if wrote and wrote.strip():
            shown.append(" ".join(wrote.split())[:STEP_SHOWN_CHARS])
    return shown


def step_table(steps: list[str], output: str) -> str:
    """Each step of the procedure beside what the target wrote for it, for failing-step localisation."""
    parsed = parse_step_output(output)
    if not parsed.steps:
        asked = "\n".join(f"Step {k} asks: {step}" for k, step in enumerate(steps, 1))
        return f"{asked}\n\nThe model labelled no step. Its whole output:\n{output.strip()[:STEP_SHOWN_CHARS * 3]}"
    rows = []
    for k, step in enumerate(steps, 1):
        wrote = parsed.text_of(k)
        shown = " ".join(wrote.split())[:STEP_SHOWN_CHARS] if wrote else "(nothing: the step is missing)"
        rows.append(f"Step {k} asks: {step}\nThe model wrote: {shown}")
    return "\n\n".join(rows)


@dataclass(frozen=True)
class Adherence:
    n_steps: int
    present: tuple[bool, ...]  # per step 1..n: written with its label
    in_order: bool
    has_answer: bool

    @property
    def followed(self) -> bool:
        return all(self.present) and self.in_order and self.has_answer

    @property
    def first_missing(self) -> int | None:
        return next((i + 1 for i, p in enumerate(self.present) if not p), None)


def adherence(output: str | None, n_steps: int) -> Adherence:
    return parsed_adherence(parse_step_output(output or ""), n_steps)


def parsed_adherence(parsed: StepOutput, n_steps: int) -> Adherence:
    numbers = [n for n, _ in parsed.steps]
    present = tuple((i + 1) in numbers for i in range(n_steps))
    firsts = [numbers.index(i + 1) for i in range(n_steps) if (i + 1) in numbers]
    return Adherence(n_steps, present, firsts == sorted(firsts), parsed.answer_line is not None)
