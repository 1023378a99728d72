"""One task's benchmark setting, shared by every system: the task, its splits, behavopt's settings, the models'
served names, the proxy, the budget and where the systems write."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness

from behavopt.optimizers.settings import RunSettings
from behavopt.optimizers.settings import preset as settings_preset
from behavopt.tasks import load_task
from behavopt.tasks.types import Example, Splits, Task

from .proxy import CountingProxy

WORKERS = 4  # DSPy threads and GEPA LiteLLM workers


@dataclass
class Context:
    task_spec: str
    task: Task
    splits: Splits
    settings: RunSettings
    target: str  # model name as served (e.g. qwen2.5-coder-0.5b)
    optimizer: str
    proxy: CountingProxy
    max_calls: int
    out_dir: Path
    preset: str = "quick"
    overrides: dict[str, Any] = field(default_factory=dict)  # behavopt setting overrides (also shape the splits)
    data_dir: Path | str | None = None
    fewshot_demos: int = 2
    workers: int = WORKERS

    @property
    def seed(self) -> int:
        return self.settings.data.seed

    def example_of(self, text: str) -> Example:
        return self._lookup[text]

    def __post_init__(self) -> None:
        # Peers hand back only the input text: it must name one example (true of the bbh and demo tasks).
        self._lookup: dict[str, Example] = {}
        for e in (*self.splits.train, *self.splits.dev, *self.splits.test):
            other = self._lookup.setdefault(e.input, e)
            if other.acceptable != e.acceptable:
                raise ValueError(f"{self.task_spec}: examples {other.id} and {e.id} share an input but not the answer")

    def score(self, output: str | None, text: str) -> tuple[str | None, bool]:
        if output is None:
            return None, False
        return self.task.is_correct(str(output), self.example_of(text))

    def test_record(self, output: str | None, text: str) -> dict[str, Any]:
        """One test example's outcome as the side-by-side bench pairs and chance-corrects it: id, score, answer."""
        answer, correct = self.score(output, text)
        return {"id": self.example_of(text).id, "score": float(correct), "answer": answer}


def make_context(task_spec: str, *, target: str, optimizer: str, proxy: CountingProxy, max_calls: int,
                 out_dir: Path, preset: str = "quick", data_dir: Path | str | None = None, seed: int = 0,
                 **overrides: Any) -> Context:
    """The setting of one task; `overrides` change behavopt's preset by flat name (split sizes shape every
    system's splits)."""
    overrides = {"seed": seed, **overrides}
    settings = settings_preset(preset).with_overrides(**overrides)
    task = load_task(task_spec, data_dir=data_dir)
    splits = harness.splits_of(task, settings)
    return Context(task_spec=task_spec, task=task, splits=splits, settings=settings, target=target,
                   optimizer=optimizer, proxy=proxy, max_calls=max_calls, out_dir=out_dir, preset=preset,
                   overrides=overrides, data_dir=data_dir)


def fresh_dir(path: Path) -> Path:
    """An empty directory at `path`: every system's run starts from nothing (no resume across benchmark runs)."""
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path
