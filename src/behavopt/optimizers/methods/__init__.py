"""One small module per method; the registry below is the one list of their names."""

from __future__ import annotations

from behavopt.core.errors import ConfigError
from behavopt.optimizers.methods.base import Method


def _registry() -> dict[str, type[Method]]:
    from behavopt.optimizers.methods.abo import ABO
    from behavopt.optimizers.methods.ape import IterativeAPE
    from behavopt.optimizers.methods.apo import APO
    from behavopt.optimizers.methods.apo_sum import APOSum
    from behavopt.optimizers.methods.opro import OPRO
    from behavopt.optimizers.methods.promptagent import PromptAgent

    return {m.name: m for m in (IterativeAPE, APO, APOSum, OPRO, PromptAgent, ABO)}  # type: ignore[misc]


def method_names() -> tuple[str, ...]:
    return tuple(_registry())


def get_method(name: str) -> Method:
    registry = _registry()
    if name not in registry:
        raise ConfigError(f"unknown method '{name}': use one of {', '.join(registry)}")
    return registry[name]()


__all__ = ["Method", "get_method", "method_names"]
