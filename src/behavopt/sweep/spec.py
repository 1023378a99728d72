"""A sweep file (YAML), typed: which tasks, methods, seeds and models to cross, with what settings; and the runs it
names, each with its run directory under the sweep's directory.

    tasks: [bbh:object_counting, bbh:navigate]
    methods: [apo, abo]
    seeds: [0, 1, 2]
    target: local:qwen2.5-coder-1.5b          # or a list: every target is crossed too
    optimizer: local:qwen2.5-coder-1.5b
    settings: {preset: quick, max_calls: 1200}  # a preset and any run setting by its flat name
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from behavopt.core.errors import ConfigError
from behavopt.core.schema import SchemaError, typed
from behavopt.optimizers.methods import method_names
from behavopt.optimizers.settings import RunSettings
from behavopt.optimizers.settings import preset as settings_preset

FIELDS = ("tasks", "methods", "seeds", "target", "optimizer", "settings")


def slug(text: str) -> str:
    """`text` as one safe path component."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: what it optimizes, with what, and its settings (the preset's, then the sweep's)."""

    name: str
    task: str
    method: str
    seed: int
    target: str
    optimizer: str
    preset: str
    settings: dict[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class SweepSpec:
    tasks: list[str]
    methods: list[str]
    seeds: list[int]
    target: str | list[str]
    optimizer: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def targets(self) -> list[str]:
        return [self.target] if isinstance(self.target, str) else list(self.target)

    @property
    def preset(self) -> str:
        return str(self.settings.get("preset", "default"))

    @property
    def overrides(self) -> dict[str, Any]:
        return {k: v for k, v in self.settings.items() if k != "preset"}

    def check(self, source: str) -> None:
        """Refuse what would fail later, before any run: empty lists, repeats, unknown methods, presets or
        settings."""
        for name in ("tasks", "methods", "seeds"):
            values = getattr(self, name)
            if not values:
                raise ConfigError(f"{source}: '{name}' is empty: list at least one")
            if len(set(values)) != len(values):
                raise ConfigError(f"{source}: '{name}' names a value twice: list each once")
        if not self.targets or len(set(self.targets)) != len(self.targets):
            raise ConfigError(f"{source}: 'target' must name one model or a list of distinct models")
        unknown = sorted(set(self.methods) - set(method_names()))
        if unknown:
            raise ConfigError(f"{source}: unknown method(s) {', '.join(unknown)}: use {', '.join(method_names())}")
        if "seed" in self.overrides:
            raise ConfigError(f"{source}: 'seed' belongs in 'seeds', not in 'settings'")
        settings_preset(self.preset).with_overrides(**self.overrides)  # unknown presets and settings fail here

    def runs(self) -> list[SweepRun]:
        """Every run, in the order tasks x methods x seeds x targets; a run's name is its directory's."""
        many_targets = len(self.targets) > 1
        return [SweepRun(name="-".join([slug(task), method, f"s{seed}", *([slug(target)] if many_targets else [])]),
                         task=task, method=method, seed=seed, target=target, optimizer=self.optimizer,
                         preset=self.preset, settings=self.overrides)
                for task in self.tasks for method in self.methods for seed in self.seeds for target in self.targets]

    def run_settings(self, run: SweepRun) -> RunSettings:
        return settings_preset(run.preset).with_overrides(**run.settings, seed=run.seed)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}


def load_sweep(path: Path) -> SweepSpec:
    """A sweep file, checked; a missing file, bad YAML, an unknown field or a bad value is one line naming it."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} not found: pass the sweep's YAML file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path} is not valid YAML{where}: fix the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not a sweep: it must map {', '.join(FIELDS)}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{path}: unknown field(s) {', '.join(unknown)}: a sweep has {', '.join(FIELDS)}")
    missing = [f for f in FIELDS[:5] if f not in data]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)}: a sweep needs tasks, methods, seeds, target and "
                          "optimizer")
    try:
        spec = typed(SweepSpec, data, source)
    except SchemaError as err:
        raise ConfigError(str(err).split(": the file is")[0] + ": fix the sweep file") from None
    spec.check(source)
    return spec
