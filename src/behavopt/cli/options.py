"""The options commands share, each declared once: the run settings (made from `RunSettings`' declarations, one
flag per setting, grouped in `--help` by the settings' groups), and the data, cache and model-connection options."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, get_type_hints

import typer

from behavopt.cli.common import cache_file, make_pool, open_cache
from behavopt.core.errors import ConfigError
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.optimizers.settings import RunSettings
from behavopt.sweep.worker import WorkerOptions

CONNECTION = "Models and cache"

DATA_DIR: Any = typer.Option(None, "--data-dir", help="benchmark data root (default $BEHAVOPT_DATA)",
                             rich_help_panel="Data")
NO_CACHE: Any = typer.Option(False, "--no-cache", help="neither read nor write the LM response cache",
                             rich_help_panel=CONNECTION)
CACHE: Any = typer.Option(None, "--cache", help="LM response cache file (default $BEHAVOPT_HOME/lm-cache.sqlite)",
                          rich_help_panel=CONNECTION)
THREADS: Any = typer.Option(None, "--threads", min=1, help="CPU threads for local models", rich_help_panel=CONNECTION)
SLOTS: Any = typer.Option(None, "--slots", min=1, help="serve local models with llama.cpp's llama-server (`make "
                                                       "llama-server`), decoding this many requests together: faster "
                                                       "on several cores, but answers may vary between identical "
                                                       "runs (the cache keeps reruns exact)",
                          rich_help_panel=CONNECTION)
RETRIES: Any = typer.Option(None, "--retries", min=0, help="retries of a failed LM call (rate limit, server "
                                                           "error, timeout, dropped connection) before the run stops "
                                                           "[default: 5]", rich_help_panel=CONNECTION)
BASE_URL: Any = typer.Option(None, "--base-url", help="OpenAI-compatible server for openai: models (or "
                                                      "OPENAI_BASE_URL)", rich_help_panel=CONNECTION)
API_KEY: Any = typer.Option(None, "--api-key", help="API key (better: OPENAI_API_KEY)", show_default=False,
                            rich_help_panel=CONNECTION)


@dataclass(frozen=True)
class Connection:
    """Where the data is and how to reach the models: the options every model-running command shares."""

    data_dir: Path | None = None
    no_cache: bool = False
    cache: Path | None = None
    threads: int | None = None
    slots: int | None = None
    retries: int | None = None
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)

    def response_cache(self) -> ResponseCache | None:
        return open_cache(self.no_cache, self.cache)

    def worker_options(self, workers: str) -> WorkerOptions:
        """The same connection for processes elsewhere (sweep workers, Ray tasks): absolute paths, and never the API
        key, which `workers` read from their own environment."""
        if self.api_key:
            raise ConfigError(f"--api-key is not passed to {workers}: set OPENAI_API_KEY in their environment")
        cache = cache_file(self.no_cache, self.cache)
        return WorkerOptions(data_dir=str(self.data_dir.resolve()) if self.data_dir else None,
                             cache=str(cache.resolve()) if cache else None, threads=self.threads, slots=self.slots,
                             retries=self.retries, base_url=self.base_url)

    def pool(self) -> ModelPool:
        return make_pool(no_cache=self.no_cache, cache_path=self.cache, threads=self.threads, slots=self.slots,
                         retries=self.retries, base_url=self.base_url, api_key=self.api_key)


OWN = "Your own task"


@dataclass(frozen=True)
class OwnData:
    """The user's own prompt, example files and metric: the options optimize and study share."""

    prompt_file: Path | None = None
    train: Path | None = None
    dev: Path | None = None
    test: Path | None = None
    input_field: str | None = None
    answer_field: str | None = None
    metric: str | None = None
    name: str = "custom"

    def given(self) -> bool:
        return any(v is not None for v in (self.prompt_file, self.train, self.dev, self.test, self.metric))

    def task_parts(self) -> dict[str, Any]:
        """user_task's arguments: the prompt file read, the metric imported, the fields named."""
        from behavopt.eval.prompts import Prompt
        from behavopt.tasks.data import Fields
        from behavopt.tasks.metric import load_metric

        return dict(prompt=Prompt.from_file(self.prompt_file) if self.prompt_file else None, train=self.train,
                    dev=self.dev, test=self.test, metric=load_metric(self.metric) if self.metric else None,
                    name=self.name, fields=Fields(input=self.input_field, answer=self.answer_field))


OWN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "prompt_file": (Optional[Path], typer.Option(None, "--prompt-file", rich_help_panel=OWN, help="the prompt to "
                    "start from: a prompt .json (behavopt.Prompt) or a text file holding the instruction")),
    "train": (Optional[Path], typer.Option(None, "--train", rich_help_panel=OWN, help="your train examples (.jsonl, "
              ".json, .csv, .tsv); dev and test are drawn from it when not given")),
    "dev": (Optional[Path], typer.Option(None, "--dev", rich_help_panel=OWN, help="your dev examples (candidates "
            "are chosen on these)")),
    "test": (Optional[Path], typer.Option(None, "--test", rich_help_panel=OWN, help="your test examples (scored "
             "once at the end)")),
    "input_field": (Optional[str], typer.Option(None, "--input-field", rich_help_panel=OWN, help="the field holding "
                    "the input (default: input, question, text, prompt or query)")),
    "answer_field": (Optional[str], typer.Option(None, "--answer-field", rich_help_panel=OWN, help="the field "
                     "holding the answer (default: answer, target, label or output)")),
    "metric": (Optional[str], typer.Option(None, "--metric", rich_help_panel=OWN, help="your metric, "
               "module:function or file.py:function: (example, output) -> bool | float | behavopt.Score")),
    "name": (str, typer.Option("custom", "--name", rich_help_panel=OWN, help="your task's name (in config.json "
             "and the prompt file)")),
}

# Each Connection field's option, in the order `--help` lists them.
CONNECTION_OPTIONS: dict[str, tuple[Any, Any]] = {
    "data_dir": (Optional[Path], DATA_DIR), "no_cache": (bool, NO_CACHE), "cache": (Optional[Path], CACHE),
    "threads": (Optional[int], THREADS), "slots": (Optional[int], SLOTS),
    "retries": (Optional[int], RETRIES), "base_url": (Optional[str], BASE_URL),
    "api_key": (Optional[str], API_KEY)}


def with_shared_options(*, settings: bool = True, own_data: bool = False, exclude_groups: tuple[str, ...] = (),
                        exclude: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the connection options, received as `connection: Connection`, (with `own_data`) the options
    of the user's own task, received as `own: OwnData`, and (with `settings`) one option per run setting, received
    as `overrides` (flat name -> value) with those not given left out so the preset's value holds."""
    offered = [d for d in RunSettings.declared() if d.group not in exclude_groups and d.flat not in exclude]
    if not settings:
        offered = []

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        resolved = get_type_hints(command)
        own = [p.replace(annotation=resolved.get(p.name, p.annotation), kind=inspect.Parameter.KEYWORD_ONLY)
               for p in inspect.signature(command).parameters.values()
               if p.name not in ("connection", "overrides", "own")]
        keyword = inspect.Parameter.KEYWORD_ONLY
        shared = {**(OWN_OPTIONS if own_data else {}), **CONNECTION_OPTIONS}
        params = own + [inspect.Parameter(name, keyword, annotation=kind, default=option)
                        for name, (kind, option) in shared.items()]
        params += [inspect.Parameter(d.flat, keyword, annotation=Optional[d.type],
                                     default=typer.Option(None, d.flag, help=d.help, min=d.minimum,
                                                          show_default=False, rich_help_panel=d.title))
                   for d in offered]
        names = {d.flat for d in offered}

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            connection = Connection(**{k: kwargs.pop(k) for k in CONNECTION_OPTIONS})
            extra: dict[str, Any] = {"connection": connection}
            if own_data:
                extra["own"] = OwnData(**{k: kwargs.pop(k) for k in OWN_OPTIONS})
            if settings:
                extra["overrides"] = {k: v for k, v in kwargs.items() if k in names and v is not None}
            return command(**{k: v for k, v in kwargs.items() if k not in names}, **extra)

        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        del wrapper.__wrapped__  # typer must read this signature, not the command's
        return wrapper

    return decorate


__all__ = ["API_KEY", "BASE_URL", "CACHE", "DATA_DIR", "NO_CACHE", "THREADS", "Connection", "OwnData",
           "with_shared_options"]
