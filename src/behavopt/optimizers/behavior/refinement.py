"""Refinement: the failing step of a procedure is replaced by the optimizer's finer sub-steps, read out of however
the reply writes them (numbered steps, lettered or dotted sub-step labels, bullets under the step)."""

from __future__ import annotations

import re

from behavopt.optimizers.behavior.procedure import parse_procedure
from behavopt.optimizers.behavior.steps import STEP_LINE, STEP_SEP, STEP_WORD, normalized

MAX_SUB_STEPS = 4
_BULLET = re.compile(r"^\s*(?:[-*•]|[a-z][.)])\s+(.+?)\s*$", re.I)


def _other_steps(steps: list[str], step: int) -> set[str]:
    """The parent's steps other than Step `step`, normalised for comparison with a reply's sub-steps."""
    return {normalized(s) for i, s in enumerate(steps, 1) if i != step}


def splice_refinement(steps: list[str], step: int, reply_steps: list[str]) -> list[str] | None:
    """The parent's procedure with Step `step` replaced by the optimizer's sub-steps, or None where the reply does not
    break that step down. A reply that repeats another step of the parent is a rewrite of the whole procedure (spliced
    in, that step would appear twice): it counts only when it is longer than the parent, since a refinement that
    shortens the procedure undoes the breakdown."""
    # The same sub-step written several times over is one sub-step.
    reply_steps = list({normalized(s): s for s in reply_steps}.values())
    others = _other_steps(steps, step)
    if any(normalized(s) in others for s in reply_steps):
        return reply_steps if len(reply_steps) > len(steps) else None
    if 1 <= len(reply_steps) <= MAX_SUB_STEPS:
        spliced = steps[:step - 1] + reply_steps + steps[step:]
        # "Sub-steps" that only restate the step leave the procedure as it was: nothing was broken down.
        return spliced if [normalized(s) for s in spliced] != [normalized(s) for s in steps] else None
    return None


def without_other_steps(sub_steps: list[str], steps: list[str], step: int) -> list[str]:
    """Labelled sub-steps of Step `step` less those that are another step of the parent word for word: that step
    carried along, which stays where it is."""
    others = _other_steps(steps, step)
    return [s for s in sub_steps if normalized(s) not in others]


def bullets_under_step(reply: str, step: int) -> list[str]:
    """The bullet points written under "Step {step}:" in a reply that repeats the whole procedure with bullets under
    each step: the bullets under the failing step are its sub-steps."""
    bullets: list[str] = []
    inside = False
    for line in reply.splitlines():
        head = STEP_LINE.match(line)
        if head:
            if inside:
                break
            inside = int(head.group(1)) == step
            continue
        m = _BULLET.match(line)
        if inside and m:
            bullets.append(m.group(1).replace("**", "").strip())
    return bullets


def lettered_sub_steps(reply: str, step: int) -> list[str]:
    """The sub-steps of Step `step` labelled "Step 3a:", "Step 3B:" or "Step 3.1:" in a reply."""
    label = re.compile(STEP_WORD + rf"{step}\s*(?:[a-z]|\.\d+)" + STEP_SEP + r"(.+?)\s*$", re.I)
    return [m.group(1).replace("**", "").strip() for m in map(label.match, reply.splitlines()) if m]


def sub_steps_of(reply: str, steps: list[str], step: int) -> list[str] | None:
    """The parent's procedure with Step `step` broken down as the reply says, trying each way a reply writes its
    sub-steps, or None where none of them breaks the step down."""
    return (splice_refinement(steps, step, parse_procedure(reply))
            or splice_refinement(steps, step, without_other_steps(lettered_sub_steps(reply, step), steps, step))
            or splice_refinement(steps, step, without_other_steps(bullets_under_step(reply, step), steps, step)))

