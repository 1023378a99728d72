"""A finished run logged to MLflow, against a real local file store: its settings as parameters, best dev per step
and the final scores as metrics, its report and prompt files as artifacts; logged once, however often asked."""

from __future__ import annotations

import pytest

from behavopt.core.errors import ConfigError
from behavopt.optimizers.result import OptimizationResult
from behavopt.report.run import write_run_report
from behavopt.report.tracking import log_run

mlflow = pytest.importorskip("mlflow", reason="the tracking extra is not installed: pip install '.[tracking]'")


def test_a_run_is_logged_with_its_settings_metrics_and_files_once(finished_run, tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    elsewhere = tmp_path / "elsewhere"  # where the command runs: nothing of MLflow's lands there
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = finished_run("apo")
    write_run_report(out)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_id = log_run(out, uri, "my-experiment")
    assert log_run(out, uri, "my-experiment") == run_id  # logged once
    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(run_id)
    result = OptimizationResult.load(out / "result.json")
    assert run.data.params["method"] == "apo" and run.data.params["beam"] == "2" and run.data.params["seed"] == "3"
    assert run.data.metrics["best_test"] == pytest.approx(result.best_test_score)
    history = client.get_metric_history(run_id, "best_dev_so_far")
    assert [m.step for m in history] == [0, 1, 2] and history[-1].value == pytest.approx(result.best_dev_score)
    files = {a.path for a in client.list_artifacts(run_id)}
    assert {"report.html", "best_prompt.json", "result.json", "config.json"} <= files
    assert len(client.search_runs([run.info.experiment_id])) == 1
    assert run.info.status == "FINISHED"
    assert (tmp_path / "mlartifacts").is_dir() and not (tmp_path / "elsewhere" / "mlruns").exists()  # beside the store


def test_an_unfinished_run_is_not_logged(finished_run, tmp_path):
    out = finished_run("apo")
    (out / "result.json").unlink()
    with pytest.raises(ConfigError, match="has not finished"):
        log_run(out, (tmp_path / "mlruns").as_uri())


def test_a_store_mlflow_refuses_is_one_line_naming_it(finished_run, tmp_path):
    out = finished_run("apo")
    uri = (tmp_path / "mlruns").as_uri()  # MLflow 3 refuses the plain file store unless told otherwise
    with pytest.raises(ConfigError, match=f"MLflow at {uri} refused the run") as info:
        log_run(out, uri)
    assert "\n" not in str(info.value)
