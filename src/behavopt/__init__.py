"""behavopt: make a target LLM do a task better by optimizing what it is told, and show why it worked.

Importing behavopt has no side effects: no files, caches or logs are created until they are used.
"""

__version__ = "0.1.0"


def optimize(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Optimize a task's prompt for a target model. See `behavopt.optimizers.run.optimize`."""
    from behavopt.optimizers.run import optimize as _optimize

    return _optimize(*args, **kwargs)


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """`behavopt.Prompt` (a saved prompt file's type), imported on first use."""
    if name == "Prompt":
        from behavopt.eval.prompts import Prompt

        return Prompt
    raise AttributeError(f"module 'behavopt' has no attribute {name!r}")
