"""`behavopt cache info | clear`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from behavopt.cli.common import open_cache, user_errors
from behavopt.cli.options import CACHE

app = typer.Typer(help="The LM response cache (SQLite).", no_args_is_help=True)



@app.command()
@user_errors
def info(cache: Optional[Path] = CACHE) -> None:
    """Entries per model, size and location."""
    opened = open_cache(False, cache)
    assert opened is not None
    print(json.dumps(opened.info(), indent=2))


@app.command()
@user_errors
def clear(cache: Optional[Path] = CACHE) -> None:
    """Delete every cached response."""
    opened = open_cache(False, cache)
    assert opened is not None
    print(f"removed {opened.clear()} cached responses from {opened.path}")
