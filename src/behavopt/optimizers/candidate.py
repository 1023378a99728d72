"""Candidates: the texts the target sees. Immutable, with an id and a parent id (lineage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from behavopt.eval.prompts import INPUT_SLOT, Prompt, PromptSource, ScoredWith, as_template, with_instruction
from behavopt.lm.types import Message
from behavopt.optimizers.behavior.procedure import Procedure
from behavopt.tasks.types import Example

# How a candidate reaches the target:
#   instruction  the prompt, then the example's input, in one user turn (after any demonstration turns)
#   turns        a demonstration as a user/assistant exchange of the same form, then the prompt and the input
#   system       prompt and demonstration in the system message, the input as the user turn
Style = Literal["instruction", "turns", "system"]


def candidate_id(number: int) -> str:
    """The id of the `number`-th candidate of a run (0: the task's own instruction)."""
    return f"c{number:04d}"


def creation_order(cid: str) -> int:
    """The number a candidate id was given: candidates made earlier have smaller numbers."""
    return int(cid[1:])


INITIAL_ID = candidate_id(0)  # the task's own instruction, every run's first candidate
_INPUT_MARK = "\x00input\x00"  # stands for the input while a candidate is turned into a template


def ranked(ids: Any, scores: dict[str, float]) -> list[str]:
    """Candidate ids best first by score; ties go to the earliest made (fewest changes from the start)."""
    return sorted(ids, key=lambda cid: (-scores[cid], creation_order(cid)))


@dataclass(frozen=True)
class Proposal:
    """What a method proposes; the engine turns it into a Candidate with an id."""

    prompt: str
    parent: str | None
    origin: str  # how it was made: initial, paraphrase, edit, variation, opro, ...
    feedback: str | None = None  # the feedback (e.g. the textual gradient) that led to this prompt
    demos: tuple[Message, ...] = ()
    procedure: Procedure | None = None  # ABO's steps and demonstration source
    style: Style = "instruction"


@dataclass(frozen=True)
class Candidate:
    id: str
    prompt: str
    parent: str | None
    step: int
    origin: str
    feedback: str | None = None
    # Demonstration turns shown before the example (user/assistant pairs), for methods that teach by example.
    demos: tuple[Message, ...] = ()
    procedure: Procedure | None = None
    style: Style = "instruction"

    def _with_prompt(self, text: str) -> str:
        return with_instruction(self.prompt, text)

    def render(self, example: Example) -> list[Message]:
        if self.style == "system":
            system = self.prompt.strip()
            if self.demos:
                shown = "\n\n".join(f"{'Input' if m.role == 'user' else 'Output'}:\n{m.content}" for m in self.demos)
                system += f"\n\nHere is an example.\n\n{shown}"
            return [Message("system", system), Message("user", example.input)]
        if self.style == "turns":
            # The demonstration has exactly the form of the real turn, so following it means following the steps.
            demos = [Message(m.role, self._with_prompt(m.content)) if m.role == "user" else m for m in self.demos]
            return [*demos, Message("user", self._with_prompt(example.input))]
        return [*self.demos, Message("user", self._with_prompt(example.input))]

    def as_prompt(self, scored_with: ScoredWith | None = None, source: PromptSource | None = None) -> Prompt:
        """The candidate as a prompt file holds it: the messages it renders, the input's place a `{input}` field."""
        *before, last = self.render(Example(id="", input=_INPUT_MARK, target=""))
        if last.role != "user" or last.content.count(_INPUT_MARK) != 1 or any(_INPUT_MARK in m.content for m in before):
            raise ValueError(f"candidate {self.id} does not put the input once in its last user turn")
        system = before[0].content if before and before[0].role == "system" else None
        turns = tuple(before[1:] if system is not None else before)
        head, tail = last.content.split(_INPUT_MARK)
        return Prompt(user=as_template(head) + INPUT_SLOT + as_template(tail), system=system, turns=turns,
                      scored_with=scored_with, source=source)

    def fingerprint(self) -> tuple:
        """Two candidates with the same fingerprint show the target the same thing."""
        return (" ".join(self.prompt.split()), tuple((m.role, m.content) for m in self.demos), self.style)


def candidate_v0_to_v1(c: dict[str, Any]) -> dict[str, Any]:
    """A version-0 candidate: ABO's steps and demonstration source were in `meta`."""
    c = dict(c)
    meta = c.pop("meta", None) or {}
    if meta.get("steps"):
        c["procedure"] = {"steps": meta["steps"], "demo_example": meta.get("demo_example"),
                          "demo_answer": meta.get("demo_answer"), "refined_step": meta.get("refined_step")}
    return c
