"""The CLI's setting options are made from the settings' declarations: every setting has one flag with its declared
help, grouped in `--help`; optimize and study share the flag names; a given flag reaches the run's settings."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from behavopt.cli.main import app
from behavopt.cli.options import Connection
from behavopt.optimizers.settings import RunSettings

runner = CliRunner()


def help_of(command: str) -> str:
    out = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert out.exit_code == 0, out.output
    return re.sub(r"\x1b\[[0-9;]*m", "", out.output)


def flags_in(text: str) -> set[str]:
    return set(re.findall(r"(--[a-z][a-z-]+)", text))


def test_optimize_offers_every_setting_grouped_with_its_help():
    text = help_of("optimize")
    for d in RunSettings.declared():
        for flag in d.flag.split("/"):
            assert flag in text, flag
    for title in ("Search", "Data", "Models", "Budget", "ABO", "PromptAgent tree search", "UCB selection",
                  "Study controls", "Models and cache"):
        assert f"─ {title} " in text, title
    assert "children per beam candidate per step" in text  # the declared help, written once


def test_study_shares_the_flag_names_but_sets_seeds_and_controls_itself():
    optimize, study = flags_in(help_of("optimize")), flags_in(help_of("study"))
    shared = {"--cache", "--no-cache", "--data-dir", "--threads", "--base-url", "--api-key", "--steps", "--beam",
              "--minibatch", "--max-calls", "--demo", "--mcts-depth", "--target-max-tokens", "--preset"}
    assert shared <= optimize & study
    assert "--seed" not in study and "--error-source" not in study and "--paraphrase-steps" not in study
    assert "--cache-path" not in optimize | study  # one name for the cache flag
    assert flags_in(help_of("eval")) >= {"--cache", "--no-cache", "--data-dir", "--threads", "--base-url"}


def test_a_setting_flag_reaches_the_settings(monkeypatch, tmp_path):
    seen = {}

    def fake_run(**kwargs):
        seen.update(kwargs)

    monkeypatch.setattr("behavopt.cli.optimize_cmd.run_optimize", fake_run)
    out = runner.invoke(app, ["optimize", "--task", "demo:navigate", "--out", str(tmp_path / "r"), "--steps", "3",
                              "--no-demo", "--mcts-depth", "2", "--selection", "ucb", "--threads", "2",
                              "--cache", str(tmp_path / "c.sqlite")])
    assert out.exit_code == 0, out.output
    assert seen["overrides"] == {"steps": 3, "abo_demo": False, "mcts_depth": 2, "selection": "ucb"}
    assert seen["connection"] == Connection(threads=2, cache=tmp_path / "c.sqlite")


def test_a_value_out_of_a_settings_range_is_refused_by_its_flag():
    out = runner.invoke(app, ["optimize", "--task", "demo:navigate", "--out", "x", "--beam", "0"])
    assert out.exit_code == 2 and "--beam" in out.output and "greater than or equal to 1" in out.output
