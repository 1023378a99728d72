"""What config.json holds: every choice that shapes a run (task, method, models, settings), never a secret."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from behavopt.core.schema import CONFIG_VERSION, FileFormat
from behavopt.optimizers.engine.cost import Price
from behavopt.optimizers.settings import RunSettings, settings_from_v0


@dataclass(frozen=True)
class RunConfig:
    task: str
    method: str
    target: str
    optimizer: str
    settings: RunSettings = field(default_factory=RunSettings)
    base_url: str | None = None
    # USD per million tokens by model spec, for USD estimates and budgets (local models cost 0).
    prices: dict[str, Price] = field(default_factory=dict)
    # For the user's own data: a fingerprint of the examples (a resumed run must be given the same ones) and the
    # metric's name.
    data: str | None = None
    metric: str | None = None

    def differences(self, other: "RunConfig") -> list[str]:
        """The names of what differs from `other`: top-level fields, and settings by their flat names."""
        names = [f.name for f in fields(self)
                 if f.name != "settings" and getattr(self, f.name) != getattr(other, f.name)]
        mine, theirs = self.settings.flat(), other.settings.flat()
        return sorted(names + [k for k in mine if mine[k] != theirs[k]])


def _config_v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 kept the settings flat, and PromptAgent's iterations apart from `steps`."""
    return {**data, "settings": settings_from_v0(data.get("settings") or {}, data.get("method", ""))}


CONFIG_FORMAT = FileFormat("config", CONFIG_VERSION, {0: _config_v0_to_v1})
