"""Finished runs made with scripted models (no real model: the report's logic, not the models), through the same
optimize path a real run takes, so that their directories hold every file a real run writes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from behavopt.optimizers import optimize_task
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import make_task, optimizer_answer, target_answer

SETTINGS = dict(initial=3, beam=2, expand=2, steps=2, errors=3, train_size=20, dev_size=20, test_size=15,
                train_batch=10)


@pytest.fixture
def finished_run(monkeypatch, tmp_path) -> Callable[..., Path]:
    """make(method, name, **settings): a finished scripted run of `method` in tmp_path/name."""
    task = make_task()
    backends = {"target": ScriptedBackend(target_answer, name="target", max_concurrency=8),
                "optimizer": ScriptedBackend(optimizer_answer, name="optimizer")}
    monkeypatch.setattr("behavopt.lm.client.open_backend", lambda spec, **kw: backends[spec.target])
    monkeypatch.setattr("behavopt.optimizers.run.load_task", lambda spec, data_dir=None: task)

    def make(method: str = "apo", name: str = "run", **settings) -> Path:
        out = tmp_path / name
        optimize_task("items", method, "openai:target", "openai:optimizer", out=out, cache=False,
                      **{**SETTINGS, "seed": 3, **settings})
        return out

    return make
