"""The options commands share, each declared once: the run settings (made from `RunSettings`' declarations, one
flag per setting, grouped in `--help` by the settings' groups), and the data, cache and model-connection options."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Optional, get_type_hints

import typer

from behavopt.optimizers.settings import RunSettings

CONNECTION = "Models and cache"

DATA_DIR: Any = typer.Option(None, "--data-dir", help="benchmark data root (default $BEHAVOPT_DATA)",
                             rich_help_panel="Data")
NO_CACHE: Any = typer.Option(False, "--no-cache", help="neither read nor write the LM response cache",
                             rich_help_panel=CONNECTION)
CACHE: Any = typer.Option(None, "--cache", help="LM response cache file (default $BEHAVOPT_HOME/lm-cache.sqlite)",
                          rich_help_panel=CONNECTION)
THREADS: Any = typer.Option(None, "--threads", min=1, help="CPU threads for local models", rich_help_panel=CONNECTION)
BASE_URL: Any = typer.Option(None, "--base-url", help="OpenAI-compatible server for openai: models (or "
                                                      "OPENAI_BASE_URL)", rich_help_panel=CONNECTION)
API_KEY: Any = typer.Option(None, "--api-key", help="API key (better: OPENAI_API_KEY)", show_default=False,
                            rich_help_panel=CONNECTION)


def with_setting_options(*, exclude_groups: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
                         ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command one option per run setting; the command receives the given ones as `overrides` (flat name ->
    value), those not given being left out so the preset's value holds."""
    offered = [d for d in RunSettings.declared() if d.group not in exclude_groups and d.flat not in exclude]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        resolved = get_type_hints(command)
        own = [p.replace(annotation=resolved.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(command).parameters.values() if p.name != "overrides"]
        params = own + [inspect.Parameter(
            d.flat, inspect.Parameter.KEYWORD_ONLY, annotation=Optional[d.type],
            default=typer.Option(None, d.flag, help=d.help, min=d.minimum, show_default=False,
                                 rich_help_panel=d.title))
            for d in offered]
        names = {d.flat for d in offered}

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            overrides = {k: v for k, v in kwargs.items() if k in names and v is not None}
            return command(**{k: v for k, v in kwargs.items() if k not in names}, overrides=overrides)

        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        hints = {p.name: p.annotation for p in params}
        wrapper.__annotations__ = hints
        del wrapper.__wrapped__  # typer must read this signature, not the command's
        return wrapper

    return decorate


__all__ = ["API_KEY", "BASE_URL", "CACHE", "DATA_DIR", "NO_CACHE", "THREADS", "with_setting_options"]
