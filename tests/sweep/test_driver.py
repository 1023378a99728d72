"""A sweep from start to summary with scripted models, run inline: every run made, a restart reuses the finished
ones and resumes the interrupted one, a failed run is recorded while the others finish, and a directory holding
another sweep is refused."""

from __future__ import annotations

import pytest

from behavopt.core.errors import ConfigError
from behavopt.lm.errors import LMError
from behavopt.optimizers.result import OptimizationResult
from behavopt.sweep.driver import run_sweep
from behavopt.sweep.executors import run_resources
from behavopt.sweep.spec import SweepRun, load_sweep
from behavopt.sweep.summary import load_summary
from behavopt.sweep.worker import WorkerOptions, run_one
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import make_task, optimizer_answer, target_answer

SWEEP = """tasks: [items, other]
methods: [apo, ape]
seeds: [0, 1]
target: openai:target
optimizer: openai:optimizer
settings: {initial: 3, beam: 2, expand: 2, steps: 2, errors: 3, train_size: 20, dev_size: 20, test_size: 15,
           train_batch: 10}
"""


class Inline:
    """Runs each run here, one after another (the scripted models live in this process)."""

    def __init__(self):
        self.ran: list[str] = []

    def run(self, runs, out, options):
        for run in runs:
            self.ran.append(run.name)
            yield run_one(run, out, options)


@pytest.fixture
def scripted(monkeypatch):
    optimizer = {"fail": False}

    def fail(request):
        return LMError("the optimizer's server refused the key") if optimizer["fail"] else None

    backends = {"target": ScriptedBackend(target_answer, name="target", max_concurrency=8),
                "optimizer": ScriptedBackend(optimizer_answer, name="optimizer", fail=fail)}
    monkeypatch.setattr("behavopt.lm.client.open_backend", lambda spec, **kw: backends[spec.target])
    monkeypatch.setattr("behavopt.optimizers.run.load_task", lambda spec, data_dir=None: make_task())
    return optimizer


def sweep(tmp_path, text=SWEEP):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return load_sweep(path)


def test_a_sweep_runs_every_run_then_a_restart_reuses_and_resumes(scripted, tmp_path):
    spec, out = sweep(tmp_path), tmp_path / "out"
    executor = Inline()
    first = run_sweep(spec, out, executor, WorkerOptions())
    assert [o.status for o in first.outcomes] == ["made"] * 8 and len(executor.ran) == 8
    assert first.compare and (out / "compare.html").is_file() and (out / "summary.md").is_file()
    assert [o.name for o in load_summary(out)] == [r.name for r in spec.runs()]
    for run in spec.runs():
        result = OptimizationResult.load(out / "runs" / run.name / "result.json")
        assert (result.method, result.seed) == (run.method, run.seed)
        assert (out / "runs" / run.name / "report.html").is_file()
    # Interrupted: one run lost its result (as if killed before the end) and must resume from its checkpoint.
    interrupted = spec.runs()[3].name
    best = OptimizationResult.load(out / "runs" / interrupted / "result.json").best_candidate
    (out / "runs" / interrupted / "result.json").unlink()
    again = Inline()
    second = run_sweep(spec, out, again, WorkerOptions())
    assert again.ran == [interrupted]
    statuses = {o.name: o.status for o in second.outcomes}
    assert statuses.pop(interrupted) == "resumed" and set(statuses.values()) == {"reused"}
    assert OptimizationResult.load(out / "runs" / interrupted / "result.json").best_candidate == best


def test_a_failed_run_is_recorded_and_the_others_finish(scripted, tmp_path):
    spec, out = sweep(tmp_path, SWEEP.replace("methods: [apo, ape]", "methods: [apo]")), tmp_path / "out"

    class FailSecond(Inline):
        def run(self, runs, out, options):
            for k, run in enumerate(runs):
                scripted["fail"] = k == 1
                yield run_one(run, out, options)

    summary = run_sweep(spec, out, FailSecond(), WorkerOptions())
    (failed,) = summary.failed
    assert failed.name == spec.runs()[1].name and "refused the key" in failed.error
    assert sum(o.status == "made" for o in summary.outcomes) == 3
    assert f"- {failed.name}: LMError" in (out / "summary.md").read_text()


def test_a_directory_holding_another_sweep_is_refused(scripted, tmp_path):
    out = tmp_path / "out"
    run_sweep(sweep(tmp_path, SWEEP.replace("seeds: [0, 1]", "seeds: [0]").replace("tasks: [items, other]",
                                                                                 "tasks: [items]")),
              out, Inline(), WorkerOptions())
    with pytest.raises(ConfigError, match="holds another sweep"):
        run_sweep(sweep(tmp_path), out, Inline(), WorkerOptions())


def run(target: str, optimizer: str) -> SweepRun:
    return SweepRun("r", "t", "apo", 0, target, optimizer, "quick")


@pytest.mark.parametrize("target, optimizer, options, cluster, needs", [
    ("local:m", "local:m", WorkerOptions(threads=4), {}, {"num_cpus": 4}),
    ("local:m", "local:m", WorkerOptions(slots=2), {}, {"num_cpus": 0.25}),  # served by llama-server
    ("openai:m?base_url=http://10.0.0.5:8000/v1", "openai:o?base_url=http://10.0.0.6:80/v1", WorkerOptions(),
     {"endpoint:10.0.0.5:8000": 4.0}, {"num_cpus": 0.25, "resources": {"endpoint:10.0.0.5:8000": 1}}),
    ("openai:m", "openai:m", WorkerOptions(base_url="http://a:1/v1,http://b:2/v1"),
     {"endpoint:a:1": 2.0, "endpoint:b:2": 2.0},
     {"num_cpus": 0.25, "resources": {"endpoint:a:1": 1, "endpoint:b:2": 1}}),
])
def test_a_run_asks_ray_for_its_cpus_and_declared_endpoints(target, optimizer, options, cluster, needs):
    assert run_resources(run(target, optimizer), options, cluster) == needs


@pytest.mark.parametrize("n, chunks, sizes", [(10, 3, [4, 3, 3]), (2, 5, [1, 1]), (6, 1, [6]), (7, 7, [1] * 7)])
def test_examples_are_cut_into_contiguous_near_equal_chunks(n, chunks, sizes):
    from behavopt.sweep.spread_eval import chunked

    parts = chunked(list(range(n)), chunks)
    assert [len(p) for p in parts] == sizes and [x for p in parts for x in p] == list(range(n))
