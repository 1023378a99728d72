"""Prompt optimizers on one search engine."""

from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.settings import PRESETS, RunSettings, preset

__all__ = ["OptimizationResult", "PRESETS", "RunSettings", "preset", "optimize_task"]


def optimize_task(*args, **kwargs):  # type: ignore[no-untyped-def]
    """See `behavopt.optimizers.run.optimize_task` (imported lazily to keep `import behavopt` light)."""
    from behavopt.optimizers.run import optimize_task as _optimize_task

    return _optimize_task(*args, **kwargs)
