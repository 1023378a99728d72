"""bench/harness.py: the shared arguments parse; the results writer writes both files atomically with a meta block
(git revision, package versions, machine) and a re-run with the same name replaces them whole; fixed prompts are
scored on the examples given; a run directory is read through behavopt's typed files."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
from pathlib import Path

import pytest

from behavopt.core.errors import ConfigError, OutputError
from behavopt.eval import InstructionPrompt
from behavopt.lm.client import LM
from behavopt.lm.types import Usage
from behavopt.optimizers.behavior import Procedure
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.result import RunUsage
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import preset
from tests.bench.helpers import REPO, fake_result, load_bench
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import make_task

harness = importlib.import_module("harness")  # the module the scripts import (bench/ is on sys.path via helpers)


# ---- shared arguments --------------------------------------------------------------------------------------------

def test_shared_arguments_parse_with_their_types_and_defaults():
    ap = harness.parser("First line\nof the description.\n\nNot this.")
    harness.add_shared(ap, {"max_calls": "the same for every method"}, tasks=["demo:arithmetic"],
                       target="local:t", seed=0, data_dir=None, max_calls=None, name="x")
    assert ap.description == "First line of the description."
    defaults = ap.parse_args([])
    assert (defaults.tasks, defaults.target, defaults.seed, defaults.data_dir, defaults.max_calls, defaults.name) \
        == (["demo:arithmetic"], "local:t", 0, None, None, "x")
    args = ap.parse_args(["--tasks", "a", "b", "--seed", "3", "--data-dir", "d", "--max-calls", "5"])
    assert args.tasks == ["a", "b"] and args.seed == 3 and args.data_dir == Path("d") and args.max_calls == 5
    assert "(the same for every method)" in " ".join(ap.format_help().split())
    assert not hasattr(args, "optimizer")  # only the arguments named are added


def test_an_unknown_shared_argument_is_a_mistake_in_the_script():
    with pytest.raises(KeyError):
        harness.add_shared(harness.parser("x"), budget=3)


@pytest.mark.parametrize("script", ["abo", "methods", "procedures", "study", "efficiency", "lm_overhead", "peers"])
def test_every_script_builds_its_parser(script, monkeypatch, capsys):
    module = load_bench(script)
    monkeypatch.setattr("sys.argv", [f"{script}.py", "--help"])
    with pytest.raises(SystemExit) as stop:
        module.build_parser().parse_args() if script == "peers" else module.parse_args()
    assert stop.value.code == 0 and "--" in capsys.readouterr().out


# ---- results files -----------------------------------------------------------------------------------------------

def test_results_carry_the_content_and_a_meta_block(tmp_path):
    stem = harness.write_results("unit", {"rows": [1, 2]}, "| a |\n|---|", results_dir=tmp_path)
    assert stem.parent == tmp_path and stem.name.endswith("-unit")
    data = json.loads(stem.with_name(stem.name + ".json").read_text())
    assert data["results"] == {"rows": [1, 2]} and harness.read_results(stem.with_name(stem.name + ".json")) \
        == {"rows": [1, 2]}
    meta = data["meta"]
    if (REPO / ".git").exists():  # a checkout: the commit and whether tracked files differ from it
        assert len(meta["git"]["revision"]) == 40 and isinstance(meta["git"]["dirty"], bool)
    assert "behavopt" in meta["versions"]
    assert meta["machine"]["cpu_count"] == os.cpu_count() and meta["machine"]["python"]
    assert stem.with_name(stem.name + ".md").read_text() == "| a |\n|---|\n"


def test_rerun_with_the_same_name_replaces_both_files_and_leaves_no_temporaries(tmp_path):
    harness.write_results("unit", ["first"], "first table\n", results_dir=tmp_path)
    stem = harness.write_results("unit", ["second"], "second table\n", results_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [stem.name + ".json", stem.name + ".md"]
    assert harness.read_results(stem.with_name(stem.name + ".json")) == ["second"]
    assert stem.with_name(stem.name + ".md").read_text() == "second table\n"


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path, monkeypatch):
    stem = harness.write_results("unit", ["kept"], "kept\n", results_dir=tmp_path)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("behavopt.core.files.os.replace", crash)
    with pytest.raises(OutputError, match="cannot write .*: disk full"):
        harness.write_results("unit", ["lost"], "lost\n", results_dir=tmp_path)
    assert harness.read_results(stem.with_name(stem.name + ".json")) == ["kept"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [stem.name + ".json", stem.name + ".md"]


def test_a_results_file_from_before_the_harness_reads_as_it_was(tmp_path):
    path = tmp_path / "old.json"
    path.write_text(json.dumps({"target": "t", "rows": []}))
    assert harness.read_results(path) == {"target": "t", "rows": []}


def test_git_revision_is_unknown_outside_a_repository(tmp_path):
    assert harness.git_revision(tmp_path) == {"revision": None, "dirty": None}


# ---- scoring fixed prompts ---------------------------------------------------------------------------------------

def test_fixed_prompts_are_scored_on_the_examples_given_at_the_settings_token_limit():
    task = make_task(120)
    settings = preset("quick").with_overrides(seed=3)
    test = harness.splits_of(task, settings).test
    backend = ScriptedBackend(lambda r: "Answer: 7")
    heard = []
    results = asyncio.run(harness.score_with(
        LM(backend, role="target", usage=Usage()), task, test,
        {"a": InstructionPrompt("Say 7."), "b": InstructionPrompt("Say it.")}, settings,
        on_scored=lambda name, result: heard.append(name)))
    assert list(results) == heard == ["a", "b"]
    assert [r.id for r in results["a"].records] == [e.id for e in test]
    assert results["a"].summary.n == len(test) == settings.data.test_size
    assert {(r.max_tokens, r.seed) for r in backend.requests} == {(settings.models.target_max_tokens, 3)}


def test_abo_columns_count_followed_steps_and_the_demonstration_answer():
    abo = load_bench("abo")
    task = make_task(120)
    settings = preset("quick")
    test = harness.splits_of(task, settings).test
    procedure = Candidate("c0001", "p", None, 1, "behavior",
                          procedure=Procedure(steps=("read", "write"), demo_example="x007", demo_answer="7"))
    result = asyncio.run(harness.score_with(LM(ScriptedBackend(lambda r: "Step 1: x\nStep 2: 7\nAnswer: 7"),
                                               role="target", usage=Usage()), task, test, {"p": procedure}, settings))
    scores = abo.column_scores(task, procedure, result["p"])
    assert scores["followed_steps"] == 1.0 and scores["demo_answer"] == "7" and scores["demo_answer_share"] == 1.0
    plain = abo.column_scores(task, InstructionPrompt("p"), result["p"])
    assert "followed_steps" not in plain and "demo_answer" not in plain and plain["answers"] == {"7": len(test)}


# ---- reading runs ------------------------------------------------------------------------------------------------

def test_a_directory_without_a_checkpoint_is_refused_with_its_name(tmp_path):
    with pytest.raises(ConfigError, match="no checkpoint.json"):
        harness.RunFiles.read(tmp_path)


def test_slug_makes_one_path_component():
    assert harness.slug("bbh:object_counting") == "bbh_object_counting"
    assert harness.slug("file:/data/x y.jsonl") == "file_data_x_y.jsonl"


def finished_run(path: Path, usage: RunUsage | None = None) -> Path:
    rundir = RunDir(path)
    rundir.prepare(RunConfig(task="items", method="apo", target="t", optimizer="o"), resume=False)
    rundir.save_checkpoint(SearchState(step=0))
    rundir.save_result(fake_result(usage=usage), "prompt c0000\n")
    return path


def test_a_finished_run_is_reused_without_optimizing(tmp_path, monkeypatch):
    monkeypatch.setattr(harness, "optimize_task", lambda *a, **k: pytest.fail("a finished run was optimized again"))
    result, made = harness.reuse_or_optimize(finished_run(tmp_path / "run"), "items", "apo", "t", "o")
    assert not made and result.best_instruction == "prompt c0000"
    run = harness.RunFiles.read(tmp_path / "run")
    assert run.finished().best_candidate == "c0000" and run.scored_up_to(5) == []


@pytest.mark.parametrize("leftover, resumed", [("config.json", True), ("stray.txt", False)])
def test_an_interrupted_run_is_resumed_and_one_without_config_started_afresh(tmp_path, monkeypatch, leftover,
                                                                              resumed):
    out = tmp_path / "run"
    if leftover == "config.json":
        RunDir(out).prepare(RunConfig(task="items", method="apo", target="t", optimizer="o"), resume=False)
    else:
        out.mkdir()
        (out / leftover).write_text("half a run")
    calls = []
    monkeypatch.setattr(harness, "optimize_task", lambda *a, **k: calls.append((a, k)) or fake_result())
    _, made = harness.reuse_or_optimize(out, "items", "apo", "t", "o", preset="quick", seed=1)
    assert made and calls == [(("items", "apo", "t", "o"), {"out": out, "resume": resumed, "preset": "quick",
                                                            "seed": 1})]
    assert (out / leftover).exists() == resumed  # a stray file would block a new run: it is gone


def test_methods_row_reads_the_typed_usage():
    usage = RunUsage(target=Usage(calls=10, cache_hits=2, prompt_tokens=100, completion_tokens=20),
                     optimizer=Usage(calls=3, cache_hits=1, prompt_tokens=50, completion_tokens=30), wall_s=7.5)
    row = load_bench("methods").row(fake_result(usage=usage))
    assert (row["calls"], row["cache_hits"], row["optimizer_calls"], row["tokens"], row["wall_s"]) == (13, 3, 4, 200,
                                                                                                        7.5)
    assert row["best_prompt"] == "prompt c0000" and row["test_n"] == 4
