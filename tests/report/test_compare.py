"""Runs compared: a paired test between runs scored on the same test examples, none between runs scored on others,
and the page with every run, their curves and the tests; two runs at least, each finished."""

from __future__ import annotations

import pytest

from behavopt.core.errors import ConfigError
from behavopt.eval.stats import paired_comparison
from behavopt.report.compare import compare_runs, write_compare
from behavopt.study.runview import RunView


def test_runs_on_the_same_test_examples_are_paired_and_others_are_not(finished_run, tmp_path):
    apo, ape = finished_run("apo", "apo"), finished_run("ape", "ape")
    other_split = finished_run("apo", "apo-seed4", seed=4)
    comparison = compare_runs([apo, ape, other_split])
    (pair,) = comparison.pairs
    assert (pair.first, pair.second) == ("apo", "ape")
    best = {name: {r.id: r.score for r in RunView.load(path).records(RunView.load(path).result.best_candidate,
                                                                         "test")}
            for name, path in (("apo", apo), ("ape", ape))}
    ids = sorted(best["apo"])
    assert pair.comparison == paired_comparison([best["apo"][i] for i in ids], [best["ape"][i] for i in ids])
    assert comparison.unpaired == [("apo", "apo-seed4"), ("ape", "apo-seed4")]
    page = write_compare(comparison, tmp_path / "out" / "compare.html").read_text()
    assert 'id="curves-plot"' in page and "<svg" in page and 'id="pairs-table"' in page
    assert all(f">{label}<" in page or f">{label}</a>" in page for label in ("apo", "ape", "apo-seed4"))


def test_runs_with_the_same_folder_name_are_told_apart(finished_run, tmp_path):
    first, second = finished_run("apo", "a/run"), finished_run("ape", "b/run")
    assert [r.label for r in compare_runs([first, second]).runs] == ["a/run", "b/run"]


@pytest.mark.parametrize("how, message", [("one", "two run directories or more"), ("unfinished", "has not finished")])
def test_a_comparison_needs_two_finished_runs(finished_run, how, message):
    run = finished_run("apo")
    other = finished_run("ape", "ape")
    if how == "unfinished":
        (other / "result.json").unlink()
    with pytest.raises(ConfigError, match=message):
        compare_runs([run] if how == "one" else [run, other])
