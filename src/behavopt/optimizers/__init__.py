"""Prompt optimizers on one search engine."""

from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.settings import PRESETS, RunSettings, preset

__all__ = ["OptimizationResult", "PRESETS", "RunSettings", "preset", "optimize"]


def optimize(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See `behavopt.optimizers.run.optimize` (imported lazily to keep `import behavopt` light)."""
    from behavopt.optimizers.run import optimize as _optimize

    return _optimize(*args, **kwargs)
