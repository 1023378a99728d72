"""BIG-Bench Hard: `bbh:NAME` -> <data>/bbh/NAME.json, `{"examples": [{"input", "target"}]}`.

The answer type is read off the targets: "(A)"-style labels -> CHOICE with the options parsed from the input;
Yes/No, True/False, valid/invalid -> CHOICE over those words; integers -> NUMBER; anything else -> TEXT.
"""

from __future__ import annotations

import re
from pathlib import Path

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import compact_match, normalize, token_sequence_match
from behavopt.tasks.build import make_task
from behavopt.tasks.files import read_json
from behavopt.tasks.loaders.common import available, examples_list, field, unknown_name
from behavopt.tasks.types import AnswerType, Example, Task

# What each task asks, stated neutrally; the answer-format sentence is appended.
STATEMENTS = {
    "boolean_expressions": "Evaluate the Boolean expression.",
    "causal_judgement": "Answer the question about causation.",
    "date_understanding": "Answer the question about dates.",
    "disambiguation_qa": "Decide what the ambiguous pronoun in the sentence refers to.",
    "dyck_languages": "Complete the bracket sequence so that every bracket is closed properly; give only the "
                      "closing brackets to add, separated by spaces.",
    "formal_fallacies": "Decide whether the argument is deductively valid given the stated premises.",
    "geometric_shapes": "Name the shape that the SVG path element draws.",
    "hyperbaton": "Pick the sentence with the correct English adjective order.",
    "logical_deduction_five_objects": "Work out the order of the objects from the statements and pick the true option.",
    "logical_deduction_seven_objects": "Work out the order of the objects from the statements and pick the true "
                                       "option.",
    "logical_deduction_three_objects": "Work out the order of the objects from the statements and pick the true "
                                       "option.",
    "movie_recommendation": "Pick the movie most similar to the listed movies.",
    "multistep_arithmetic_two": "Compute the value of the arithmetic expression.",
    "navigate": "Follow the movement instructions and decide whether you end up back at the starting point.",
    "object_counting": "Count the objects the question asks about.",
    "penguins_in_a_table": "Answer the question about the table of penguins.",
    "reasoning_about_colored_objects": "Answer the question about the colored objects.",
    "ruin_names": "Pick the humorous edit of the artist or movie name.",
    "salient_translation_error_detection": "Identify the type of error in the translation.",
    "snarks": "Pick the sarcastic statement.",
    "sports_understanding": "Decide whether the sentence about sports is plausible.",
    "temporal_sequences": "Answer the question about when the event could have happened.",
    "tracking_shuffled_objects_five_objects": "Track the swaps and pick the option that holds at the end.",
    "tracking_shuffled_objects_seven_objects": "Track the swaps and pick the option that holds at the end.",
    "tracking_shuffled_objects_three_objects": "Track the swaps and pick the option that holds at the end.",
    "web_of_lies": "Work out whether the last person tells the truth.",
    "word_sorting": "Sort the words alphabetically; give them separated by spaces.",
}

# Tasks whose free-text answers need a more forgiving comparison than exact match.
METRICS = {"dyck_languages": compact_match, "word_sorting": token_sequence_match}

BINARY = [("Yes", "No"), ("True", "False"), ("valid", "invalid"), ("yes", "no")]
_LABEL = re.compile(r"^\([A-Z]\)$")
_OPTION_LINE = re.compile(r"^\s*\(([A-Z])\)\s*(.*?)\s*$")
_INTEGER = re.compile(r"^-?\d+$")


def parse_options(text: str) -> tuple[tuple[str, str], ...]:
    """The "(A) text" lines that follow an "Options:" line."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Options:")
    except StopIteration:
        return ()
    options = []
    for line in lines[start + 1:]:
        m = _OPTION_LINE.match(line)
        if m:
            options.append((f"({m.group(1)})", m.group(2)))
    return tuple(options)


def _label_for(target: str, options: tuple[tuple[str, str], ...]) -> tuple[str, tuple[str, ...], str] | None:
    """Map an option *text* target to (label, acceptable answers, note), or None when nothing matches.

    A few upstream examples (movie_recommendation, ruin_names) have option lists split at commas, so the target
    "Monsters, Inc" spans options "(A) Monsters" and "(B) Inc": such a run of options maps to its first label,
    and every label in the run counts as right, as does the full text.
    """
    norm = normalize(target)
    hits = [label for label, text in options if normalize(text) == norm]
    if hits:
        return hits[0], tuple(hits), f"target text '{target}' mapped to {hits[0]}"
    for i in range(len(options)):
        for j in range(i + 2, len(options) + 1):
            joined = ", ".join(text for _, text in options[i:j])
            if normalize(joined) == norm:
                run = tuple(label for label, _ in options[i:j])
                return run[0], run + (target,), f"target '{target}' spans options {run[0]}-{run[-1]} split at commas"
    return None


def load(name: str, root: Path) -> Task:
    folder = root / "bbh"
    path = folder / f"{name}.json"
    if not path.is_file():
        raise unknown_name("bbh", name, available(folder), folder)
    rows = examples_list(read_json(path), path)
    if not isinstance(rows, list):
        raise TaskError(f"{path}: 'examples' must be a list of {{input, target}} objects: is this a BBH file?")
    pairs = [(str(field(r, "input", path, i)), str(field(r, "target", path, i)).strip())
             for i, r in enumerate(rows, start=1)]
    targets = {t for _, t in pairs}
    options = [parse_options(inp) for inp, _ in pairs]
    binary = next((pair for pair in BINARY if targets <= set(pair)), None)
    lettered = sum(bool(_LABEL.match(t)) for _, t in pairs)

    examples: list[Example] = []
    if binary is not None:
        answer_type = AnswerType.CHOICE
        opts = tuple((o, o) for o in binary)
        examples = [Example(id=f"{name}-{i:04d}", input=inp, target=t, options=opts, meta={"row": i})
                    for i, (inp, t) in enumerate(pairs, start=1)]
    elif all(options) and lettered >= 0.9 * len(pairs):
        # Mostly "(A)" targets: a choice task, even if a few upstream targets are option texts.
        answer_type = AnswerType.CHOICE
        for i, ((inp, t), opts) in enumerate(zip(pairs, options), start=1):
            meta: dict = {"row": i}
            answers: tuple[str, ...] = ()
            if not _LABEL.match(t):
                mapped = _label_for(t, opts)
                if mapped is not None:
                    t, answers, meta["note"] = mapped
                else:
                    # Unmatchable upstream target: keep its text, which the choice metric compares as text.
                    meta["note"] = f"target '{t}' matches no option"
            examples.append(Example(id=f"{name}-{i:04d}", input=inp, target=t, answers=answers, options=opts,
                                    meta=meta))
    else:
        answer_type = AnswerType.NUMBER if all(_INTEGER.match(t) for t in targets) else AnswerType.TEXT
        examples = [Example(id=f"{name}-{i:04d}", input=inp, target=t, meta={"row": i})
                    for i, (inp, t) in enumerate(pairs, start=1)]

    labels = list(binary) if binary else (["(A)"] if answer_type is AnswerType.CHOICE else None)
    statement = STATEMENTS.get(name, "Solve the problem.")
    return make_task(f"bbh:{name}", examples, answer_type, task_statement=statement, labels=labels,
                     metric=METRICS.get(name), source=str(path),
                     description=f"BIG-Bench Hard {name}: {len(examples)} examples, {answer_type.value} answers")
