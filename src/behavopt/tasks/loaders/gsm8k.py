"""GSM8K: `gsm8k` / `gsm8k:test` / `gsm8k:train` -> <data>/gsm8k/{split}.jsonl, `{"question", "answer"}`.

The gold number is what follows "#### " at the end of the worked answer (commas removed); the worked solution
before it is kept in `meta["rationale"]` for few-shot demonstrations.
"""

from __future__ import annotations

import re
from pathlib import Path

from behavopt.core.errors import TaskError
from behavopt.tasks.build import make_task
from behavopt.tasks.files import iter_jsonl
from behavopt.tasks.loaders.common import field
from behavopt.tasks.types import AnswerType, Example, Task

SPLITS = ("test", "train")
_FINAL = re.compile(r"####\s*(-?[\d,]+(?:\.\d+)?)\s*$")


def load(split: str, root: Path) -> Task:
    split = split or "test"
    if split not in SPLITS:
        raise TaskError(f"unknown gsm8k split '{split}': use gsm8k:test or gsm8k:train")
    path = root / "gsm8k" / f"{split}.jsonl"
    examples = []
    for n, (lineno, row) in enumerate(iter_jsonl(path), start=1):
        solution = str(field(row, "answer", path, lineno)).strip()
        m = _FINAL.search(solution)
        if not m:
            raise TaskError(f"{path}:{lineno}: the answer does not end in '#### <number>': fix that line")
        examples.append(Example(
            id=f"gsm8k-{split}-{n:04d}", input=str(field(row, "question", path, lineno)).strip(),
            target=m.group(1).replace(",", ""),
            meta={"row": lineno, "rationale": solution[:m.start()].strip()}))
    return make_task(f"gsm8k:{split}", examples, AnswerType.NUMBER, source=str(path),
                     task_statement="Solve the math word problem.",
                     description=f"GSM8K {split}: {len(examples)} grade-school math word problems, numeric answers")
