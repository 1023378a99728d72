"""bench/final_pick.py on finished scripted runs (no real model: the bench's logic): the dev rule returns the run's
own best, a rule's pick without test records is not written, and one that is the initial or the best is scored from
the run's own test records."""

from __future__ import annotations

import pytest

from behavopt.optimizers import optimize_task
from tests.bench.helpers import load_bench
from tests.lm.scripted import ScriptedBackend
from tests.optimizers.helpers import make_task, optimizer_answer, target_answer

SETTINGS = dict(initial=4, beam=2, expand=2, steps=1, errors=3, train_size=20, test_size=10, train_batch=10, seed=1)


@pytest.fixture
def bench(monkeypatch, tmp_path):
    fp = load_bench("final_pick")
    task = make_task()
    backends = {"target": ScriptedBackend(target_answer, name="target", max_concurrency=8),
                "optimizer": ScriptedBackend(optimizer_answer, name="optimizer")}
    monkeypatch.setattr("behavopt.lm.client.open_backend", lambda spec, **kw: backends[spec.target])
    monkeypatch.setattr("behavopt.optimizers.run.load_task", lambda spec, data_dir=None: task)
    monkeypatch.setattr(fp, "load_task", lambda spec: task)
    monkeypatch.setattr(fp, "ROW_DIR", tmp_path / "rows")

    def run(name: str, **settings):
        out = tmp_path / "runs" / name
        return optimize_task("items", "apo", "openai:target", "openai:optimizer", out=out, cache=False,
                             **{**SETTINGS, **settings}), out

    return fp, run


def test_each_rule_picks_from_the_runs_dev_records_and_the_dev_rule_is_the_runs_own_best(bench):
    fp, run = bench
    result, out = run("small-dev", dev_size=4)
    row = fp.pick_row(out, target=None)
    assert row["leader"] == result.best_candidate != "c0000"
    assert row["rules"]["dev"]["candidate"] == result.best_candidate
    assert row["rules"]["dev"]["test"] == pytest.approx(result.best_test_score)
    # four dev examples cannot make a gain significant: the initial, scored on test by the run itself
    assert row["rules"]["significant"]["candidate"] == "c0000"
    assert row["rules"]["significant"]["test"] == pytest.approx(result.initial_test_score)
    assert row["rules"]["dev"]["dev"] == pytest.approx(result.best_dev_score)


def test_a_run_made_with_another_rule_is_refused(bench):
    fp, run = bench
    _, out = run("guarded", dev_size=4, pick="significant")
    with pytest.raises(SystemExit, match="pick=significant"):
        fp.pick_row(out, target=None)


def test_rows_are_written_when_every_pick_has_test_scores_and_skipped_after(bench, capsys):
    fp, run = bench
    _, out = run("small-dev", dev_size=4)
    fp.main([str(out)])
    rows = list(fp.ROW_DIR.glob("*.json"))
    kappa_missing = fp.pick_row(out, None)["rules"]["kappa"]["test"] is None
    assert len(rows) == (0 if kappa_missing else 1)
    fp.main([str(out)])
    assert ("done before, skipped" in capsys.readouterr().out) == (not kappa_missing)
