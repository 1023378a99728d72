"""A procedure: the optimizer's numbered steps read out of its reply, the checks that it can guide the target on new
inputs, and the text the target is told."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from behavopt.optimizers.behavior.steps import STEP_WORD, words
from behavopt.tasks.answers import answer_format
from behavopt.tasks.types import Example, Task


@dataclass(frozen=True)
class Procedure:
    """What ABO attaches to a candidate: its steps, the demonstration's train example and gold answer (None without
    a demonstration), and the parent's step these steps broke down (None for a procedure written from scratch)."""

    steps: tuple[str, ...]
    demo_example: str | None = None
    demo_answer: str | None = None
    refined_step: int | None = None


# Procedure lines: "Step 1: ...", "1. ...", "1) ..."; a sub-step label ("Step 4.1:", "4.1") is not a step.
_PROC_LINE = re.compile(r"(?:" + STEP_WORD + r"(\d+)\s*[:.)\-–]|^\s*(\d+)\s*[.)])(?!\d)\s*(?:\*\*)?\s*(.+?)\s*$",
                        re.I)
_SUB_LABEL = re.compile(r"^sub-?step\s*[\d.]*\s*[:.)\-–]\s*", re.I)


def parse_procedure(text: str) -> list[str]:
    """The steps of a procedure written by the optimizer, in order, renumbered from 1."""
    steps = []
    for line in text.replace("<START>", "\n").replace("<END>", "\n").splitlines():
        m = _PROC_LINE.match(line)
        if m and m.group(3).replace("*", "").strip():
            # Markdown emphasis ("**Count**: ...") is noise to the target and to step matching.
            step = m.group(3).replace("**", "").strip().strip("*").strip()
            steps.append(_SUB_LABEL.sub("", step) or step)  # an inner "Sub-step 1.1:" label is noise
    return steps


# A step that compares with the correct answer, by any of its names: the target never sees it.
_GOLD_WORDS = re.compile(r"\b(?:correct|expected|gold)\s+(?:answer|total|result|count|output|label)\b", re.I)
# "The answer given" is the gold only where the inputs carry no answer of their own.
_GIVEN_ANSWER = re.compile(r"\b(?:(?:given|provided)\s+answer|answer\s+(?:given|provided)(?:\s+in\b|[\s.]*$))", re.I)
COPY_WORDS = 6  # this many consecutive words of an example's input in a step: the step solves that example
# This many of one example's rarer words (in at most half of the inputs) in a step: the step lists that example's
# items rather than a way to find them.
SPECIFIC_WORDS = 4
# "Answer: 8", "the answer is 12", or an option letter that ends the step: an answer, not an action.
_STATED_ANSWER = re.compile(r"\banswer\s*(?:is|:)\s*\(?\d"
                            r"|\b(?:answer|option|letter)\s*(?:is|:)\s*[\"'(]*[A-Z][\"')]*[\s.]*$", re.I)
# An option named in a step; naming two or more is a way to choose, naming one steers every input toward it.
_OPTION = re.compile(r"\(([A-J])\)|\b(?:option|choice|statement)\s+([A-J])\b")
# Words that say how to do a step, never which example it is about (in long inputs each is in under half of them).
_FUNCTION_WORDS = frozenset("""
about above after again against all also and any are because been before being below between both but can could did
does doing down during each either few for from further had has have having her here hers him his how its itself
may might more most must not now off once only other our out over own same she should some such than that the their
them then there these they this those through too under until very was were what when where which while who whom
why will with would you your
determine find identify given provided select choose give write read look use using based step steps first next
last every one two three directly carefully relevant specific statements information
""".split())


def _single_option(step: str) -> str | None:
    letters = {a or b for a, b in _OPTION.findall(step)}
    return letters.pop() if len(letters) == 1 else None


def _rare_words(vocabularies: list[set[str]]) -> set[str]:
    """Words of 3+ letters found in at most half of the inputs, function words aside: the ones that tell one example
    from another."""
    inputs_with = Counter(word for vocabulary in vocabularies for word in vocabulary)
    return {word for word, k in inputs_with.items()
            if len(word) >= 3 and not word.isdigit() and k <= len(vocabularies) / 2 and word not in _FUNCTION_WORDS}


def procedure_problem(steps: list[str], examples: list[Example]) -> str | None:
    """Why a procedure cannot guide the target on new inputs, or None: a step that refers to the correct answer,
    states an answer, singles out one option, copies an example's input, or lists one example's items."""
    inputs = [words(e.input) for e in examples]
    inputs_answer = any("answer" in w for w in inputs)
    grams = {tuple(w[i:i + COPY_WORDS]) for w in inputs for i in range(len(w) - COPY_WORDS + 1)}
    vocabularies = [set(w) for w in inputs]
    rare = _rare_words(vocabularies)
    named_in: dict[int, set[str]] = {}  # each step's rarer words, for items spread over several steps
    for n, step in enumerate(steps, 1):
        if _GOLD_WORDS.search(step) or (_GIVEN_ANSWER.search(step) and not inputs_answer):
            return f"step {n} refers to the correct answer, which the model never sees"
        if _STATED_ANSWER.search(step):
            return f"step {n} states an answer instead of an action"
        if (letter := _single_option(step)) is not None:
            return f"step {n} singles out option ({letter}) instead of saying how to choose among the options"
        w = words(step)
        if any(tuple(w[i:i + COPY_WORDS]) in grams for i in range(len(w) - COPY_WORDS + 1)):
            return f"step {n} copies an example's input instead of saying what to do with any input"
        named = named_in[n] = set(w) & rare
        if any(len(named & vocabulary) >= SPECIFIC_WORDS for vocabulary in vocabularies):
            return f"step {n} lists one example's items instead of saying how to find them in any input"
    # The same example's items may be spread one per step.
    named_anywhere = set().union(*named_in.values())
    for vocabulary in vocabularies:
        if len(named_anywhere & vocabulary) >= SPECIFIC_WORDS:
            which = [str(n) for n, named in named_in.items() if named & vocabulary]
            return f"steps {', '.join(which)} list one example's items instead of saying how to find them in any input"
    return None


def procedure_text(task: Task, steps: list[str] | tuple[str, ...]) -> str:
    """What the target is told: the steps, and an output format that labels every step and ends in the answer."""
    numbered = "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(steps))
    labels = None
    options = next((e.options for e in task.examples if e.options), ())
    if options:
        labels = [label for label, _ in options]
    return (f"{task.instruction.strip()}\n\nFollow this procedure exactly.\n\n{numbered}\n\n"
            f"Write one line per step, from 'Step 1:' to 'Step {len(steps)}:', each giving the result of that step. "
            f"{answer_format(task.answer_type, labels)}")
