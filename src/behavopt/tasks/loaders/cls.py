"""Text classification sets from EvoPrompt: `cls:NAME[:SPLIT]` for sst2, trec, agnews.

<data>/classification/NAME/dev_500.tsv (split `dev`, the default) or test.tsv (`test`), lines `text<TAB>label_id`.
Labels are EvoPrompt's verbalisers; prompts.txt's first line, a human-written instruction, is the default.
"""

from __future__ import annotations

import re
from pathlib import Path

from behavopt.core.errors import TaskError
from behavopt.tasks.build import make_task
from behavopt.tasks.files import DATA_FIX, read_text
from behavopt.tasks.types import AnswerType, Example, Task

LABELS: dict[str, dict[int, str]] = {
    "sst2": {0: "negative", 1: "positive"},
    "trec": {0: "Description", 1: "Entity", 2: "Expression", 3: "Human", 4: "Location", 5: "Number"},
    "agnews": {0: "World", 1: "Sports", 2: "Business", 3: "Tech"},
}
SPLIT_FILES = {"dev": "dev_500.tsv", "test": "test.tsv"}
FALLBACK_STATEMENTS = {"sst2": "Classify the sentiment of the sentence.", "trec": "Classify the type of the question.",
                       "agnews": "Classify the topic of the news article."}
# prompts.txt asks for the bare label; that contradicts the 'Answer: <label>' line every task ends with.
_BARE_LABEL = re.compile(r"\s*Return label only[^.]*\.?\s*$", re.I)


def _statement(folder: Path, name: str) -> str:
    path = folder / "prompts.txt"
    if path.is_file():
        first = next((ln.strip() for ln in read_text(path).splitlines() if ln.strip()), "")
        first = _BARE_LABEL.sub("", first).strip()
        if first:
            return first if first.endswith((".", "?", "!")) else first + "."
    return FALLBACK_STATEMENTS[name]


def load(spec: str, root: Path) -> Task:
    name, _, split = spec.partition(":")
    split = split or "dev"
    if name not in LABELS:
        raise TaskError(f"unknown classification task '{name}': known names are {', '.join(LABELS)}")
    if split not in SPLIT_FILES:
        raise TaskError(f"unknown split '{split}' for cls:{name}: use cls:{name} (dev) or cls:{name}:test")
    folder = root / "classification" / name
    if not folder.is_dir():
        raise TaskError(f"benchmark folder not found: {folder}: {DATA_FIX}")
    path = folder / SPLIT_FILES[split]
    if folder.is_dir() and not path.is_file():
        have = [s for s, f in SPLIT_FILES.items() if (folder / f).is_file()]
        raise TaskError(f"cls:{name} has no '{split}' split ({path} not found): use one of {', '.join(have) or 'none'}")
    labels = LABELS[name]
    options = tuple((text, text) for text in labels.values())
    examples = []
    for lineno, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        text, sep, label = line.rpartition("\t")
        if not sep or not text.strip():
            raise TaskError(f"{path}:{lineno}: expected 'text<TAB>label_id': fix that line")
        if not label.strip().lstrip("-").isdigit() or int(label) not in labels:
            raise TaskError(f"{path}:{lineno}: label '{label.strip()}' is not one of {sorted(labels)}: fix that line")
        n = len(examples) + 1
        ex_id = f"{name}-{n:04d}" if split == "dev" else f"{name}-{split}-{n:04d}"
        examples.append(Example(id=ex_id, input=text.strip(), target=labels[int(label)], options=options,
                                meta={"row": lineno}))
    task_name = f"cls:{name}" if split == "dev" else f"cls:{name}:{split}"
    return make_task(task_name, examples, AnswerType.CHOICE, task_statement=_statement(folder, name),
                     labels=list(labels.values()), source=str(path),
                     description=f"{name} {split} ({len(examples)} examples): classify into "
                                 f"{', '.join(labels.values())}")
