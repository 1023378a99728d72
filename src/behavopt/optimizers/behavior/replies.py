"""The optimizer's replies held to a JSON schema (`abo_replies=json`): one schema per purpose, enforced by
constrained decoding where the server supports it (llama.cpp in-process and llama-server do), and each reply read
back into the text form the text replies have, so the same parsers and checks judge both.

A schema holds what a check would otherwise refuse after the fact: the number of steps, one failing step among the
procedure's, a demonstration with exactly one result per step, each short enough for the target's budget, ending in
the gold answer."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from behavopt.optimizers.behavior.demonstration import CHARS_PER_TOKEN, DEMO_SHARE_OF_TARGET_TOKENS

STEP_CHARS = 200  # one step of a procedure: a single action, one line
REASON_CHARS = 300
ANSWER_LINE_CHARS = 40  # "Answer: ..." and the line breaks between steps, reserved out of a demonstration's budget


def _strings(min_items: int, max_items: int, max_chars: int) -> dict[str, Any]:
    return {"type": "array", "minItems": min_items, "maxItems": max_items,
            "items": {"type": "string", "minLength": 1, "maxLength": max_chars}}


def _object(**properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


@dataclass(frozen=True)
class ReplyShape:
    """What one optimizer call must reply: its schema, and the sentence that tells the optimizer so."""

    schema: dict[str, Any]
    instruction: str

    def prompt(self, text_prompt: str) -> str:
        return f"{text_prompt}\n\n{self.instruction}"


def procedure_shape(min_steps: int, max_steps: int) -> ReplyShape:
    return ReplyShape(_object(steps=_strings(min_steps, max_steps, STEP_CHARS)),
                      'Reply with JSON only, in this shape: {"steps": ["<step 1>", "<step 2>", ...]}')


def sub_steps_shape(max_sub_steps: int) -> ReplyShape:
    return ReplyShape(_object(sub_steps=_strings(2, max_sub_steps, STEP_CHARS)),
                      'Reply with JSON only, in this shape: {"sub_steps": ["<sub-step 1>", "<sub-step 2>", ...]}')


def localize_shape(n_steps: int) -> ReplyShape:
    schema = _object(failing_step={"type": "integer", "enum": list(range(1, n_steps + 1))},
                     reason={"type": "string", "minLength": 1, "maxLength": REASON_CHARS})
    return ReplyShape(schema, 'Reply with JSON only, in this shape: {"failing_step": <number>, "reason": "<one '
                              'sentence>"}')


def demonstration_shape(n_steps: int, answer: str, target_max_tokens: int) -> ReplyShape:
    """Exactly one result per step, all of them together short enough to leave the target room for its answer (the
    demonstration's length check), then the gold answer itself."""
    budget = int(target_max_tokens * DEMO_SHARE_OF_TARGET_TOKENS) * CHARS_PER_TOKEN - ANSWER_LINE_CHARS
    per_step = max(20, min(STEP_CHARS, budget // max(n_steps, 1) - len("Step 10: ")))
    schema = _object(steps=_strings(n_steps, n_steps, per_step), answer={"type": "string", "enum": [answer]})
    return ReplyShape(schema, f'Reply with JSON only, in this shape: {{"steps": ["<result of step 1>", ..., "<result '
                              f'of step {n_steps}>"], "answer": "{answer}"}}')


_SPACE = re.compile(r"\s+")


def _one_line(value: Any) -> str:
    return _SPACE.sub(" ", str(value)).strip()


def _loaded(reply: str) -> dict[str, Any] | None:
    """The reply's JSON object, or None where it is not one (cut off by the token limit, or a server that ignored the
    schema and wrote text)."""
    try:
        data = json.loads(reply)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _numbered(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    return [f"Step {i}: {_one_line(s)}" for i, s in enumerate(items, 1) if _one_line(s)]


def as_text(purpose: str, reply: str) -> str:
    """A JSON reply in the text form that purpose's text reply has ("Step 1: ...", "Failing step: 2\\nReason: ...",
    the demonstration's step lines and answer line). A reply that is not the JSON asked for is returned as it is,
    for the text parsers to make of it what they can."""
    data = _loaded(reply)
    if data is None:
        return reply
    if purpose == "procedure":
        return "\n".join(_numbered(data.get("steps")))
    if purpose == "refine":
        return "\n".join(_numbered(data.get("sub_steps")))
    if purpose == "localize":
        return f"Failing step: {data.get('failing_step')}\nReason: {_one_line(data.get('reason', ''))}"
    if purpose == "demonstration":
        lines = _numbered(data.get("steps"))
        answer = _one_line(data.get("answer", ""))
        return "\n".join(lines + ([f"Answer: {answer}"] if answer else []))
    raise ValueError(f"no JSON reply is defined for the purpose {purpose!r}")
