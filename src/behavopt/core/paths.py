"""Where behavopt keeps files. Nothing here creates a directory: callers create lazily, on first real use."""

from __future__ import annotations

import os
from pathlib import Path


def behavopt_home() -> Path:
    """Root of behavopt's own files: `$BEHAVOPT_HOME`, else `~/.cache/behavopt`."""
    env = os.environ.get("BEHAVOPT_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "behavopt"


def models_dir() -> Path:
    return behavopt_home() / "models"


def default_cache_path() -> Path:
    return behavopt_home() / "lm-cache.sqlite"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Benchmark data root: the explicit flag, else `$BEHAVOPT_DATA`, else None (loaders then explain what to set)."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("BEHAVOPT_DATA")
    return Path(env).expanduser() if env else None
