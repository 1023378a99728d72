"""bench/ scripts are not a package: tests load them from their files, with bench/ on sys.path as when a script
runs, so that their `import harness` and `from peerbench ...` work here too."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from behavopt.eval.prompts import Prompt
from behavopt.optimizers.result import OptimizationResult, RunUsage
from behavopt.optimizers.settings import RunSettings

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))


def load_bench(name: str) -> ModuleType:
    """bench/<name>.py as the module `bench_<name>` (registered, so its dataclasses can find their module)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = module
    spec.loader.exec_module(module)
    return module


def load_peers() -> ModuleType:
    return load_bench("peers")


def load_peer_part(name: str) -> ModuleType:
    """bench/peerbench/<name>.py, one part of bench/peers.py (proxy, context, systems, dspy_runs, report, ...)."""
    return importlib.import_module(f"peerbench.{name}")


def fake_result(best: str = "c0000", prompt: str = "prompt c0000", usage: RunUsage | None = None) -> OptimizationResult:
    """A result.json's content whose best candidate is `best`; what bench/ reads of it is the best prompt and usage."""
    return OptimizationResult(
        method="abo", task="items", target="t", optimizer="o", seed=0,
        initial_prompt=Prompt.from_instruction("prompt c0000"), best_prompt=Prompt.from_instruction(prompt),
        initial_instruction="prompt c0000", best_instruction=prompt, best_candidate=best, initial_dev_score=0.5, best_dev_score=0.5, initial_test_score=0.5,
        best_test_score=0.5, initial_test_ci95=(0, 1), best_test_ci95=(0, 1), test_size=4, dev_size=4, steps=[],
        usage=usage or RunUsage(), stop_reason="", run_dir="", settings=RunSettings())
