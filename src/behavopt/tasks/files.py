"""Reading task data files. Every failure becomes one TaskError line that names the file (and line) and the fix."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from behavopt.core.errors import TaskError
from behavopt.core.paths import data_dir as _env_data_dir

DATA_FIX = "set --data-dir or BEHAVOPT_DATA to the benchmarks folder (the one holding bbh/, gsm8k/, ...)"


def resolve_data_dir(explicit: str | Path | None, spec: str) -> Path:
    """The benchmark root for a data-backed task, or a TaskError that says how to set it."""
    root = _env_data_dir(explicit)
    if root is None:
        raise TaskError(f"task '{spec}' needs the benchmark data but no data folder is set: {DATA_FIX}")
    if not root.is_dir():
        raise TaskError(f"benchmark data folder not found: {root}: {DATA_FIX}")
    return root


def require_file(path: Path, fix: str = DATA_FIX) -> Path:
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "not found"
        raise TaskError(f"data file {what}: {path}: {fix}")
    return path


def read_text(path: Path, fix: str = DATA_FIX) -> str:
    require_file(path, fix)
    try:
        return path.read_bytes().decode("utf-8-sig")  # -sig: tolerate the BOM spreadsheet tools write
    except UnicodeDecodeError as e:
        line = path.read_bytes()[:e.start].count(b"\n") + 1
        raise TaskError(f"{path}:{line}: not valid UTF-8 text (byte {e.start}): the file must be UTF-8, "
                        "so re-save it with UTF-8 encoding") from None
    except OSError as e:
        raise TaskError(f"cannot read {path}: {e.strerror}: check the file's permissions") from None


def read_json(path: Path, fix: str = DATA_FIX) -> Any:
    text = read_text(path, fix)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TaskError(f"{path}:{e.lineno}: invalid JSON ({e.msg}): fix or re-download the file") from None


def iter_jsonl(path: Path, fix: str = DATA_FIX) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line."""
    for lineno, line in enumerate(read_text(path, fix).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise TaskError(f"{path}:{lineno}: invalid JSON line ({e.msg}): each line must be one JSON object") \
                from None
        if not isinstance(obj, dict):
            raise TaskError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}: "
                            "each line must be one JSON object with named fields")
        yield lineno, obj


def iter_csv(path: Path, delimiter: str = ",", fix: str = DATA_FIX) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for each data row of a CSV/TSV file with a header line."""
    text = read_text(path, fix)
    reader = csv.DictReader(text.splitlines(keepends=True), delimiter=delimiter, restkey="\0extra")
    try:
        if not reader.fieldnames:
            return
        names = list(reader.fieldnames)
        if len(set(names)) != len(names) or any(not (n or "").strip() for n in names):
            raise TaskError(f"{path}:1: the header must name every column once: fix the header line")
        for row in reader:
            if "\0extra" in row or any(v is None for v in row.values()):
                count = "more" if "\0extra" in row else "fewer"
                raise TaskError(f"{path}:{reader.line_num}: row has {count} fields than the header's {len(names)}: "
                                f"fix the row (quote fields that contain '{delimiter}')")
            yield reader.line_num, row
    except csv.Error as e:
        raise TaskError(f"{path}:{reader.line_num}: invalid CSV ({e}): fix the quoting on that line") from None
