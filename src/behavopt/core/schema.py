"""Schema versions of the JSON files behavopt writes. Every file carries `schema_version`; reading one upgrades an
older version step by step to the current one and refuses an unknown (newer or malformed) one with one line."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from behavopt.core.errors import ConfigError

T = TypeVar("T")

# The current version of each file format; a change to a format's shape raises its number and adds an upgrade.
CONFIG_VERSION = 1  # config.json
CHECKPOINT_VERSION = 1  # checkpoint.json
RESULT_VERSION = 2  # result.json
EVENTS_VERSION = 1  # events.jsonl (carried by its `started` event)
PROMPT_VERSION = 1  # best_prompt.json and any saved behavopt.Prompt
STUDY_RESULTS_VERSION = 1  # a study experiment's results.json (version 0: written without schema_version)
SWEEP_VERSION = 1  # a sweep directory's sweep.json and summary.json

VERSION_KEY = "schema_version"


class SchemaError(ConfigError):
    """A file is not of a format and version this behavopt can read."""


Upgrade = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class FileFormat:
    """One file format: its name, current version, and the upgrade from each older version to the next."""

    name: str
    version: int
    # upgrades[k] turns a version-k dict into a version-(k+1) dict; a file without schema_version is version 0.
    upgrades: Mapping[int, Upgrade] = field(default_factory=dict)

    def stamp(self, data: dict[str, Any]) -> dict[str, Any]:
        """The dict as written: schema_version first, then the fields."""
        return {VERSION_KEY: self.version, **{k: v for k, v in data.items() if k != VERSION_KEY}}

    def current(self, data: Any, source: str) -> dict[str, Any]:
        """The fields of `data` at the current version (upgraded where older), without schema_version."""
        if not isinstance(data, dict):
            raise SchemaError(f"{source} is not a behavopt {self.name} file (not a JSON object): "
                              "point at a run directory behavopt wrote, or start a new one")
        version = data.get(VERSION_KEY, 0)
        if not isinstance(version, int) or isinstance(version, bool) or not 0 <= version <= self.version:
            raise SchemaError(f"{source} has {self.name} schema_version {version!r}, which this behavopt does not "
                              f"know (it reads versions up to {self.version}): upgrade behavopt, or start a new run "
                              "directory")
        while version < self.version:
            if version not in self.upgrades:
                raise SchemaError(f"{source} is a {self.name} file of version {version}, too old to upgrade: "
                                  "start a new run directory")
            data = self.upgrades[version](dict(data))
            version += 1
        return {k: v for k, v in data.items() if k != VERSION_KEY}


def read_json(path: Path, what: str) -> Any:
    """A JSON file's content; a missing, unreadable or truncated file is refused with one line naming it."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SchemaError(f"{path} is missing: {what} needs it; point at a complete run directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise SchemaError(f"{path} is not valid JSON ({err}): the file is damaged; restore it or start a new "
                          "run directory") from None


@lru_cache(maxsize=None)
def _adapter(cls: Any) -> TypeAdapter:
    return TypeAdapter(cls)


def typed(cls: type[T], data: Any, source: str) -> T:
    """`data` (parsed JSON) as an object of `cls`, validated field by field; refused with one line naming the first
    field that does not fit."""
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the top level"
        raise SchemaError(f"{source} is not a valid {cls.__name__} (at {where}: {first['msg']}): the file is damaged "
                          "or not behavopt's; restore it or start a new run directory") from None


def plain(obj: Any) -> Any:
    """A typed object as JSON data (dicts, lists, strings and numbers), the inverse of `typed`."""
    return _adapter(type(obj)).dump_python(obj, mode="json")
