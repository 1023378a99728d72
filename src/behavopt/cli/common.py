"""What every command shares: one-line errors, the stderr console, and building the LM pool from flags."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console

from behavopt.core.errors import BehavoptError
from behavopt.core.paths import default_cache_path
from behavopt.eval.evaluator import EvalAborted
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.errors import LMError
from behavopt.lm.retry import RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])

# Progress and notices go to stderr so that stdout carries only results (e.g. `--json`).
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def user_errors(func: F) -> F:
    """Turn the errors a user can fix into one line on stderr and a non-zero exit, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EvalAborted as err:  # the model or server failed, not the user's input
            raise fail(str(err), code=1) from None
        except BehavoptError as err:
            raise fail(str(err)) from None
        except LMError as err:
            raise fail(f"model call failed: {err}", code=1) from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None
        except OSError as err:  # a file or folder the checks above did not foresee: still one line, no traceback
            raise fail(f"{err.strerror or err}: {err.filename or ''}: check the path and its permissions",
                       code=1) from None

    return wrapper  # type: ignore[return-value]


def cache_file(no_cache: bool, cache_path: Path | None) -> Path | None:
    """The response cache file: --cache, else $BEHAVOPT_CACHE, else the default; None with --no-cache."""
    if no_cache:
        return None
    return cache_path or Path(os.environ.get("BEHAVOPT_CACHE", "") or default_cache_path())


def open_cache(no_cache: bool, cache_path: Path | None) -> ResponseCache | None:
    path = cache_file(no_cache, cache_path)
    return ResponseCache(path) if path else None


def make_pool(*, no_cache: bool = False, cache_path: Path | None = None, threads: int | None = None,
              slots: int | None = None, retries: int | None = None, base_url: str | None = None,
              api_key: str | None = None) -> ModelPool:
    return ModelPool(cache=open_cache(no_cache, cache_path), threads=threads, slots=slots,
                     retry=RetryPolicy.allowing(retries), base_url=base_url, api_key=api_key,
                     notice=lambda m: err_console.print(f"[yellow]{m}[/]", highlight=False))
