"""Instruction induction (APE): `ii:NAME` -> <data>/instruction_induction/execute/NAME.json
(`ii:NAME:induce` reads the induce/ folder, meant for demonstrations).

File format: `{"examples": {"1": {"input", "output", ...}}}`. Some tasks list several acceptable outputs
(translations, rhymes, common concepts): those become ANY_OF.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavopt.core.errors import TaskError
from behavopt.tasks.answers import token_sequence_match, token_set_match
from behavopt.tasks.build import make_task
from behavopt.tasks.files import read_json
from behavopt.tasks.loaders.common import available, examples_list, field, unknown_name
from behavopt.tasks.types import AnswerType, Example, Metric, Task

FOLDERS = ("execute", "induce")

STATEMENTS = {
    "active_to_passive": "Rewrite the sentence in the passive voice.",
    "antonyms": "Give a word with the opposite meaning of the input word.",
    "common_concept": "Say what the listed items have in common.",
    "diff": "Subtract the second number from the first.",
    "first_word_letter": "Give the first letter of the input word.",
    "informal_to_formal": "Rewrite the sentence in a formal style.",
    "letters_list": "Spell out the letters of the input word, separated by spaces.",
    "negation": "Negate the sentence.",
    "num_to_verbal": "Write the number in English words.",
    "orthography_starts_with": "List, in order, the words of the sentence that start with the letter in brackets.",
    "rhymes": "Give a word that rhymes with the input word.",
    "second_word_letter": "Give the second letter of the input word.",
    "sentence_similarity": "Rate how close the two sentences are in meaning, on the scale '0 - definitely not', "
                           "'1 - probably not', '2 - possibly', '3 - probably', '4 - almost perfectly', "
                           "'5 - perfectly'.",
    "sentiment": "Classify the sentiment of the sentence as positive or negative.",
    "singular_to_plural": "Give the plural form of the noun.",
    "sum": "Add the two numbers.",
    "synonyms": "Give a word with the same meaning as the input word.",
    "taxonomy_animal": "List the input words that are animals.",
    "translation_en-de": "Translate the English word into German.",
    "translation_en-es": "Translate the English word into Spanish.",
    "translation_en-fr": "Translate the English word into French.",
}

NUMBER_TASKS = {"sum", "diff"}
CHOICE_TASKS = {"sentiment": ("positive", "negative")}
# The gold lists members in an arbitrary order, or a letter sequence whose separators do not matter.
METRICS: dict[str, Metric] = {"taxonomy_animal": token_set_match, "orthography_starts_with": token_set_match,
                              "letters_list": token_sequence_match}


def _extra_answers(name: str, row: dict[str, Any]) -> list[str]:
    """Acceptable answers beyond `output`, from the fields each task keeps them in."""
    if "possible_translations" in row:
        return [str(a) for a in row["possible_translations"] or []]
    if "other_rhymes" in row:
        # The list includes the input word itself; echoing the input is not a rhyme, so it does not count.
        return [str(a) for a in row["other_rhymes"] or [] if str(a).lower() != str(row.get("input", "")).lower()]
    if "all_common_concepts" in row:
        return [str(a) for a in row["all_common_concepts"] or []]
    if name == "sentence_similarity" and " - " in str(row.get("output", "")):
        score, words = str(row["output"]).split(" - ", 1)  # "3 - probably": the score or the words alone count
        return [score, words]
    return []


def _example(name: str, key: str, row: dict[str, Any], path: Path) -> Example:
    row_no = f"'{key}'"
    if name == "common_concept" or ("items" in row and "input" not in row):
        items = field(row, "items", path, row_no)
        inp = ", ".join(str(x) for x in items)
        target = str(row.get("concept") or field(row, "all_common_concepts", path, row_no)[0])
    else:
        inp = str(field(row, "input", path, row_no))
        target = str(field(row, "output", path, row_no))
    answers: list[str] = []
    for a in [target, *_extra_answers(name, row)]:
        if a.strip() and a not in answers:
            answers.append(a)
    ex_id = f"{name}-{int(key):04d}" if str(key).isdigit() else f"{name}-{key}"
    return Example(id=ex_id, input=inp, target=target, answers=tuple(answers) if len(answers) > 1 else (),
                   options=tuple((o, o) for o in CHOICE_TASKS.get(name, ())), meta={"row": key})


def load(spec: str, root: Path) -> Task:
    name, _, folder_name = spec.partition(":")
    folder_name = folder_name or "execute"
    if folder_name not in FOLDERS:
        raise TaskError(f"unknown instruction-induction set '{folder_name}' in 'ii:{spec}': use ii:NAME "
                        "(execute/, for scoring) or ii:NAME:induce (demonstrations)")
    folder = root / "instruction_induction" / folder_name
    path = folder / f"{name}.json"
    if not path.is_file():
        raise unknown_name("instruction-induction", name, available(folder), folder)
    rows = examples_list(read_json(path), path)
    if not isinstance(rows, dict):
        raise TaskError(f"{path}: 'examples' must map ids to examples: is this an instruction-induction file?")
    examples = [_example(name, str(key), row, path) for key, row in rows.items()]
    answer_type: AnswerType
    make_metric: Metric | None = METRICS.get(name)
    if name in NUMBER_TASKS:
        answer_type = AnswerType.NUMBER
    elif name in CHOICE_TASKS:
        answer_type = AnswerType.CHOICE
    elif any(ex.answers for ex in examples):
        answer_type = AnswerType.ANY_OF
    else:
        answer_type = AnswerType.TEXT
    task_name = f"ii:{name}" if folder_name == "execute" else f"ii:{name}:{folder_name}"
    return make_task(task_name, examples, answer_type, task_statement=STATEMENTS.get(name, "Respond to the input."),
                     labels=list(CHOICE_TASKS.get(name, ())) or None, metric=make_metric, source=str(path),
                     description=f"Instruction induction {name} ({folder_name}): {len(examples)} examples, "
                                 f"{answer_type.value} answers")
