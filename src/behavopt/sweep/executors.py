"""Who runs a sweep's runs: worker processes on this machine (one per free core's worth of threads), or Ray tasks on
a cluster, each asking for the resources its run needs. Both call sweep.worker.run_one, so a run's result does not
depend on where it ran; both hand each outcome back as it comes."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlparse

from behavopt.core.errors import ConfigError
from behavopt.lm.spec import parse_spec
from behavopt.sweep.spec import SweepRun
from behavopt.sweep.worker import RunOutcome, WorkerOptions, run_one

# A Ray task lost with its worker or node is run again this many times; the run resumes from its checkpoint.
RAY_MAX_RETRIES = 3
DEFAULT_THREADS = 2  # llama.cpp threads of an in-process model, when the sweep does not say


class Executor(Protocol):
    def run(self, runs: Sequence[SweepRun], out: str, options: WorkerOptions) -> Iterator[RunOutcome]:
        """Each run's outcome, as it finishes."""
        ...


def free_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass
class LocalExecutor:
    """Worker processes on this machine (started fresh, not forked: llama.cpp's threads do not survive a fork)."""

    workers: int

    def run(self, runs: Sequence[SweepRun], out: str, options: WorkerOptions) -> Iterator[RunOutcome]:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            futures = {pool.submit(run_one, run, out, options): run for run in runs}
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as err:  # a worker process died (killed, out of memory): the pool goes with it
                    yield RunOutcome(futures[future].name, "failed", 0.0, "local",
                                     error=f"{type(err).__name__}: a worker process died; run the sweep again to "
                                           "resume this run")


def endpoints_of(run: SweepRun, base_url: str | None) -> set[str]:
    """The host:port of every OpenAI-compatible endpoint the run's models are served at."""
    hosts = set()
    for text in (run.target, run.optimizer):
        spec = parse_spec(text)
        if spec.kind != "openai":
            continue
        for url in (spec.options.get("base_url") or base_url or "").split(","):
            if url.strip():
                parsed = urlparse(url.strip())
                hosts.add(f"{parsed.hostname}:{parsed.port or (443 if parsed.scheme == 'https' else 80)}")
    return hosts


def run_resources(run: SweepRun, options: WorkerOptions, cluster: dict[str, float]) -> dict[str, Any]:
    """What a run asks Ray for: CPUs for its in-process models' threads (a little for a run whose models are served
    elsewhere), and one unit of `endpoint:HOST:PORT` for each endpoint it calls, where the cluster declares that
    resource (`ray start --resources '{"endpoint:10.0.0.5:8000": 4}'` lets at most 4 runs call it at once)."""
    local = any(parse_spec(m).in_process(options.slots) for m in (run.target, run.optimizer))
    needs: dict[str, Any] = {"num_cpus": (options.threads or DEFAULT_THREADS) if local else 0.25}
    custom = {f"endpoint:{h}": 1 for h in endpoints_of(run, options.base_url) if f"endpoint:{h}" in cluster}
    if custom:
        needs["resources"] = custom
    return needs


@dataclass
class RayExecutor:
    """Ray tasks on the cluster at `address`; a task lost with its worker is run again and resumes its run."""

    address: str
    on_notice: Callable[[str], None] = lambda message: None

    def run(self, runs: Sequence[SweepRun], out: str, options: WorkerOptions) -> Iterator[RunOutcome]:
        try:
            import ray
        except ImportError:
            raise ConfigError("--ray needs Ray: pip install 'behavopt[ray]'") from None
        ray.init(address=self.address, logging_level="ERROR", log_to_driver=False)
        try:
            cluster = ray.cluster_resources()
            self.on_notice(f"Ray cluster at {self.address}: {cluster.get('CPU', 0):g} CPUs on "
                           f"{len(ray.nodes())} node(s)")
            remote = ray.remote(max_retries=RAY_MAX_RETRIES)(run_one)
            pending = {remote.options(**run_resources(run, options, cluster)).remote(run, out, options): run
                       for run in runs}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                run = pending.pop(done[0])
                try:
                    yield ray.get(done[0])
                except ray.exceptions.RayError as err:  # lost beyond its retries: recorded, the sweep goes on
                    yield RunOutcome(run.name, "failed", 0.0, "ray", error=f"{type(err).__name__}: "
                                     f"{str(err).strip().splitlines()[0] if str(err).strip() else ''}")
        finally:
            ray.shutdown()
