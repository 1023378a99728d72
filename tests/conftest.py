"""Shared fixtures. End-to-end tests use the real SmolLM2 model (pulled by `make test` before pytest starts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def benchmarks_dir() -> Path | None:
    env = os.environ.get("BEHAVOPT_DATA")
    path = Path(env) if env else REPO.parent / "shared" / "benchmarks"
    return path if path.is_dir() else None


@pytest.fixture
def data_dir() -> Path:
    path = benchmarks_dir()
    if path is None:
        pytest.skip("benchmark data not found: set BEHAVOPT_DATA or put shared/benchmarks beside the repo")
    return path


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    """The verified SmolLM2 file; pulled once if it is not there yet."""
    from behavopt.lm import local_models

    return local_models.pull("smollm2-135m")


@pytest.fixture(scope="session")
def small_study(smollm_path, tmp_path_factory):
    """A real study (`behavopt study all`, SmolLM2 as target, optimizer and judge, tiny settings, one seed), made once
    for the tests that read it: (its directory, the finished command). Its runs are real SmolLM2 runs, ABO's among
    them. Tests must not change it."""
    pytest.importorskip("sentence_transformers", reason="the study extra is not installed: pip install '.[study]'")
    from tests.cli.test_eval_cli import behavopt
    from tests.cli.test_study_cli import TINY

    home = tmp_path_factory.mktemp("small-study")
    out = home / "study"
    proc = behavopt("study", "all", "--task", "demo:object-counting", *TINY, "--seeds", "1", "--out", str(out),
                    "--json", env_home=home, check=True)
    return out, proc


def killed_run_args() -> list[str]:
    """The apo run that the kill tests interrupt: the CLI tests' TINY settings, two steps (after TINY's one)."""
    from tests.cli.test_optimize_cli import TINY

    return ["optimize", "--task", "demo:navigate", "--method", "apo", *TINY, "--steps", "2"]


@pytest.fixture(scope="session")
def uninterrupted_run(smollm_path, tmp_path_factory):
    """killed_run_args() run once without interruption, with its own cache (`--json` output): the result every
    killed-and-resumed run must equal. Made once for the kill tests of two files."""
    from tests.cli.test_eval_cli import behavopt

    home = tmp_path_factory.mktemp("uninterrupted")
    return json.loads(behavopt(*killed_run_args(), "--out", str(home / "whole"), "--json", "--cache",
                               str(home / "c1.sqlite"), check=True).stdout)
