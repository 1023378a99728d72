"""Small helpers shared by the benchmark loaders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behavopt.core.errors import TaskError
from behavopt.tasks.files import DATA_FIX


def available(folder: Path, pattern: str = "*.json") -> list[str]:
    """Task names in a benchmark folder (file stems), for 'unknown task' messages."""
    return sorted(p.stem for p in folder.glob(pattern)) if folder.is_dir() else []


def unknown_name(kind: str, name: str, known: list[str], folder: Path | None = None) -> TaskError:
    if folder is not None and not folder.is_dir():
        return TaskError(f"benchmark folder not found: {folder}: {DATA_FIX}")
    where = f" in {folder}" if folder is not None else ""
    listing = ", ".join(known) if known else "none found"
    return TaskError(f"unknown {kind} task '{name}'{where}: known names are {listing}")


def field(row: dict[str, Any], key: str, path: Path, row_no: int | str) -> Any:
    """A required field of one row, or a TaskError naming the file, the row and the missing field."""
    value = row.get(key) if isinstance(row, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise TaskError(f"{path}: row {row_no} has no '{key}' field (or it is empty): fix or remove that row")
    return value


def examples_list(data: Any, path: Path, key: str = "examples") -> Any:
    if not isinstance(data, dict) or key not in data:
        raise TaskError(f"{path}: expected a JSON object with an '{key}' field: is this the right file?")
    return data[key]
