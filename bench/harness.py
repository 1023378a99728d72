"""What every bench script shares: its common arguments, the results files, scoring fixed prompts on a test split,
reading a finished run, and starting a `behavopt serve`.

    bench/results/<date>-<name>.json   {"meta": {git, versions, machine, ...}, "results": the script's own content}
    bench/results/<date>-<name>.md     the script's tables, as they were before the harness

Scripts import it as `import harness` (bench/ is on sys.path when a script runs; tests/bench/helpers.py puts it there).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_json, atomic_write_text
from behavopt.core.paths import default_cache_path
from behavopt.eval import EvalSettings, Evaluator
from behavopt.eval.evaluator import EvalRecord, EvalResult
from behavopt.eval.stats import answer_chance, chance_corrected, mean_score
from behavopt.eval.prompts import PromptCandidate
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import LM, ModelPool
from behavopt.lm.serve_process import ServeProcess
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.run import optimize_task
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import RunSettings
from behavopt.tasks.types import Example, Splits, Task

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
RUNS = RESULTS / "runs"  # run directories and server logs (not tracked)
# One benchmark run writes its results under the date it started, even when it ends after midnight.
STARTED = dt.date.today()

# The packages whose versions shape a benchmark's numbers; one not installed is left out of the meta block.
PACKAGES = ("behavopt", "llama-cpp-python", "dspy", "gepa", "optuna", "litellm", "openai", "httpx")


def slug(text: str) -> str:
    """`text` as one safe path component (a task spec's ':' and '/' become '_')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


# ---- shared arguments --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Argument:
    flag: str
    help: str
    options: Mapping[str, Any] = field(default_factory=dict)


SHARED: dict[str, Argument] = {
    "tasks": Argument("--tasks", "tasks to run, in this order (e.g. bbh:navigate demo:object-counting)",
                      {"nargs": "+"}),
    "target": Argument("--target", "the target model: the one whose prompt is optimized and scored"),
    "optimizer": Argument("--optimizer", "the optimizer model: the one that proposes prompts"),
    "preset": Argument("--preset", "behavopt settings preset: split sizes, search sizes, sampling"),
    "seed": Argument("--seed", "split and sampling seed", {"type": int}),
    "data_dir": Argument("--data-dir", "benchmark data directory (bbh/, bigbench/, ...)", {"type": Path}),
    "max_calls": Argument("--max-calls", "LM-call budget of each optimization run, the final test evaluation "
                                         "included", {"type": int}),
    "name": Argument("--name", "results files: bench/results/<date>-<name>.json and .md"),
    "model": Argument("--model", "registered local model (see `behavopt models list`)"),
    "threads": Argument("--threads", "llama.cpp threads", {"type": int}),
    "n": Argument("--n", "requests or examples measured", {"type": int}),
    "max_tokens": Argument("--max-tokens", "generation limit per request", {"type": int}),
    "llama_server": Argument("--llama-server", "serve with this llama.cpp server binary (`make llama-server`) "
                                               "instead of llama-cpp-python's server"),
    "parallel": Argument("--parallel", "with --llama-server: slots decoded together", {"type": int}),
}


def parser(doc: str, **options: Any) -> argparse.ArgumentParser:
    """A script's parser, described by the first paragraph of its docstring."""
    return argparse.ArgumentParser(description=" ".join(doc.split("\n\n")[0].split()), **options)


def add_shared(ap: argparse.ArgumentParser, notes: Mapping[str, str] | None = None, **defaults: Any) -> None:
    """Add the shared arguments named by `defaults`, each with its default; `notes` adds a script's own remark to
    an argument's help."""
    for key, default in defaults.items():
        arg = SHARED[key]
        note = (notes or {}).get(key)
        ap.add_argument(arg.flag, default=default, help=arg.help + (f" ({note})" if note else ""), **arg.options)


# ---- results files -----------------------------------------------------------------------------------------------

def results_stem(name: str, results_dir: Path = RESULTS) -> Path:
    """bench/results/<date started>-<name>, without a suffix."""
    return results_dir / f"{STARTED.isoformat()}-{name}"


def git_revision(repo: Path = BENCH.parent) -> dict[str, Any]:
    """The commit the code ran at, and whether tracked files differed from it; None where git cannot tell."""
    def git(*args: str) -> str | None:
        try:
            # --no-optional-locks: reading the status must not rewrite the index of a tree someone else is using.
            done = subprocess.run(["git", "--no-optional-locks", "-C", str(repo), *args], capture_output=True,
                                  text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"revision": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def memory_gib() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def machine_facts() -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {"cpu_count": os.cpu_count(), "usable_cpus": usable, "memory_gib": memory_gib(),
            "platform": platform.platform(), "machine": platform.machine(),
            "python": f"{platform.python_implementation()} {platform.python_version()}"}


def run_meta() -> dict[str, Any]:
    """What a results file needs to be reproduced: when, by which command, at which commit, with which packages,
    on which machine."""
    return {"written": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": [Path(sys.argv[0]).name, *sys.argv[1:]], "git": git_revision(),
            "versions": package_versions(), "machine": machine_facts()}


def write_results(name: str, content: Any, markdown: str | None = None, *, results_dir: Path = RESULTS) -> Path:
    """<date>-<name>.json (content under "results", beside "meta") and, given markdown, <date>-<name>.md; each file
    is replaced whole, so a crash mid-write leaves the previous version. Returns the stem."""
    stem = results_stem(name, results_dir)
    atomic_write_json(stem.with_name(stem.name + ".json"), {"meta": run_meta(), "results": content})
    if markdown is not None:
        atomic_write_text(stem.with_name(stem.name + ".md"), markdown if markdown.endswith("\n") else markdown + "\n")
    return stem


def tabulate_rows(name: str, row_dir: Path, sort_key: Callable[[Any], Any], table: Callable[[list[Any]], str],
                  results_dir: Path = RESULTS) -> None:
    """Every row file of a resumable bench (row_dir/*.json), sorted, printed as a table and written as the
    <date>-<name> results in results_dir; nothing is written while there is no row."""
    rows = sorted((read_results(p) for p in sorted(row_dir.glob("*.json"))), key=sort_key)
    if rows:
        markdown = table(rows)
        print(markdown)
        write_results(name, rows, markdown, results_dir=results_dir)


def read_results(path: Path) -> Any:
    """The content of a results file that write_results wrote (one written before the harness is all content)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["results"] if isinstance(data, dict) and {"meta", "results"} <= set(data) else data


# ---- scoring fixed prompts ---------------------------------------------------------------------------------------

def kappa(task: Task, ids: Sequence[str], answers: Sequence[str | None], scores: Sequence[float],
          digits: int = 4) -> float | None:
    """Cohen's kappa of per-example results (None for none): their accuracy over what the same answers shuffled
    across their examples get, scored with the task's metric."""
    if not ids:
        return None
    by_id = {e.id: e for e in task.examples}
    chance = answer_chance(list(answers), [by_id[i] for i in ids], task.metric)
    return round(chance_corrected(mean_score(list(scores)), chance), digits)


def splits_of(task: Task, settings: RunSettings) -> Splits:
    """The task's train/dev/test split under the settings' sizes and seed, as every optimization run makes it."""
    d = settings.data
    return task.split(d.train_size, d.dev_size, d.test_size, seed=d.seed)


Scored = Callable[[str, EvalResult], None]


async def score_with(lm: LM, task: Task, examples: list[Example], prompts: Mapping[str, PromptCandidate],
                     settings: RunSettings, on_scored: Scored | None = None) -> dict[str, EvalResult]:
    """Each prompt scored on `examples` by `lm`, one prompt after the other, at the settings' target token limit
    and seed; `on_scored` hears of each as it finishes."""
    evaluator = Evaluator(task, lm, EvalSettings(max_tokens=settings.models.target_max_tokens, seed=settings.data.seed))
    out = {}
    for name, prompt in prompts.items():
        out[name] = (await evaluator.evaluate(prompt, examples, split="test")).complete()
        if on_scored is not None:
            on_scored(name, out[name])
    return out


def score_prompts(task: Task, examples: list[Example], target: str, prompts: Mapping[str, PromptCandidate],
                  settings: RunSettings, on_scored: Scored | None = None) -> dict[str, EvalResult]:
    """score_with the target model, through the default response cache (a re-run is served from it)."""
    async def run() -> dict[str, EvalResult]:
        async with ModelPool(cache=ResponseCache(default_cache_path())) as pool:
            return await score_with(pool.lm(target, "target"), task, examples, prompts, settings, on_scored)

    return asyncio.run(run())


# ---- optimization runs -------------------------------------------------------------------------------------------

@dataclass
class RunFiles:
    """A run directory read through behavopt's typed files: its search state, its result once finished, and its
    per-example records on demand."""

    path: Path
    state: SearchState
    result: OptimizationResult | None

    @classmethod
    def read(cls, path: Path | str) -> RunFiles:
        rundir = RunDir(path)
        state = rundir.load_checkpoint()
        if state is None:
            raise ConfigError(f"{rundir.path} holds no checkpoint.json: run it (again) before reading it")
        return cls(rundir.path, state, rundir.load_result())

    def finished(self) -> OptimizationResult:
        if self.result is None:
            raise ConfigError(f"{self.path} holds no result.json: the run did not finish; resume it first")
        return self.result

    def scored_up_to(self, step: int) -> list[Candidate]:
        """Candidates made at or before `step` and scored on all of dev (early-stopped ones hold a minibatch score
        only), in the order they were made."""
        scores = self.state.fully_scored()
        return [c for c in self.state.candidates.values() if c.step <= step and c.id in scores]

    def records(self, candidate_id: str, split: str) -> list[EvalRecord]:
        return [r for s, r in RunDir(self.path).load_records(candidate_id) if s == split]


def reuse_or_optimize(out: Path, task: str, method: str, target: str, optimizer: str,
                      **options: Any) -> tuple[OptimizationResult, bool]:
    """The finished run in `out`, or one made there now (resumed where an earlier one stopped); True when made now.
    `options` are optimize_task()'s (data_dir, preset, settings by flat name)."""
    rundir = RunDir(out)
    done = rundir.load_result()
    if done is not None:
        return done, False
    resume = rundir.config_path.is_file()
    if out.exists() and not resume:  # a run stopped before writing config.json: nothing to keep, and it blocks
        shutil.rmtree(out)
    return optimize_task(task, method, target, optimizer, out=out, resume=resume, **options), True


# ---- servers -----------------------------------------------------------------------------------------------------

def launch_serve(model: str, log: Path, *, threads: int | None = None, extra: list[str] | None = None,
                 port: int | None = None) -> ServeProcess:
    """`behavopt serve local:MODEL` started (not yet ready: several can load side by side); `extra`: more serve
    options, e.g. --llama-server P --parallel N."""
    args = [f"local:{model}", *(["--threads", str(threads)] if threads else []), *(extra or [])]
    server = ServeProcess(args, log, port=port)
    server.launch()
    return server


def start_server(model: str, threads: int, extra: list[str] | None = None) -> tuple[ServeProcess, str]:
    """A ready `behavopt serve local:MODEL` on a free port and its base URL; its log goes to
    bench/results/runs/serve-MODEL.log."""
    server = launch_serve(model, RUNS / f"serve-{model}.log", threads=threads, extra=extra)
    return server, server.wait_ready()
