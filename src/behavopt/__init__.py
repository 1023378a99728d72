"""behavopt: make a target LLM do a task better by optimizing what it is told, and show why it worked.

    import behavopt
    result = behavopt.optimize(prompt="...", train=examples, metric=my_metric, target=..., optimizer=...)
    result.best_prompt.messages("a new input")

Importing behavopt has no side effects: no files, caches or logs are created until they are used, and the names
below are imported on first use.
"""

from typing import Any

__version__ = "0.1.0"

# Public name -> the module that defines it.
_PUBLIC = {
    "optimize": "behavopt.optimizers.api",
    "Budget": "behavopt.optimizers.api",
    "OptimizationResult": "behavopt.optimizers.result",
    "Prompt": "behavopt.eval.prompts",
    "Example": "behavopt.tasks.types",
    "Score": "behavopt.tasks.metric",
    "Price": "behavopt.optimizers.engine.cost",
}
__all__ = [*_PUBLIC, "__version__"]


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'behavopt' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_PUBLIC[name]), name)
