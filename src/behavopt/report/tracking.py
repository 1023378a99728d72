"""Optional experiment tracking: a finished run logged to MLflow (`--mlflow URI`): its settings as parameters, the
best dev score per step and the final scores and costs as metrics, and its report, prompt and result files as
artifacts. The run directory stays the source of truth; logging reads it and changes nothing in it.

An MLflow client is made per call (no tracking URI set process-wide), and a run already logged (the same run
directory and result) is not logged twice."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from behavopt.core.errors import ConfigError
from behavopt.optimizers.rundir import RunDir
from behavopt.report.run import REPORT_FILE
from behavopt.study.runview import RunView

RUN_DIR_TAG = "behavopt.run_dir"
RESULT_TAG = "behavopt.best_candidate"


def mlflow_module() -> Any:
    """MLflow, or a one-line error naming the extra to install (checked before a run, not after it)."""
    try:
        import mlflow
    except ImportError:
        raise ConfigError("--mlflow needs MLflow: pip install 'behavopt[tracking]' (or mlflow-skinny)") from None
    return mlflow


def run_metrics(view: RunView) -> tuple[list[tuple[str, float, int]], dict[str, float]]:
    """(name, value, step) per step, and the final metrics, of a finished run."""
    result = view.result
    assert result is not None
    per_step = [("best_dev_so_far", v, k) for k, v in enumerate(view.dev_curve()) if not math.isnan(v)]
    final = {"initial_test": result.initial_test_score, "best_test": result.best_test_score,
             "initial_dev": result.initial_dev_score, "best_dev": result.best_dev_score,
             "wall_s": result.usage.wall_s}
    for role in ("target", "optimizer"):
        u = result.usage.for_role(role)  # type: ignore[arg-type]
        final.update({f"{role}_calls": u.calls, f"{role}_tokens": u.prompt_tokens + u.completion_tokens,
                      f"{role}_lm_s": round(u.seconds, 3)})
    if result.test_comparison is not None:
        final["best_vs_initial_p"] = result.test_comparison.p_value
    return per_step, final


def run_params(view: RunView) -> dict[str, str]:
    params = {"task": view.config.task, "method": view.config.method, "target": view.config.target,
              "optimizer": view.config.optimizer}
    params.update({name: str(value) for name, value in view.settings.flat().items()})
    return params


def log_run(run_dir: str | Path, uri: str, experiment: str = "behavopt") -> str:
    """Log a finished run to the MLflow tracking server or store at `uri` (sqlite:///path/mlflow.db for a local
    store, http://host:5000 for a server); returns the MLflow run id (the existing one where this run was logged
    before). MLflow's own refusals come back as one line naming the URI."""
    view = RunView.load(run_dir)
    if view.result is None:
        raise ConfigError(f"{view.path} has not finished (no result.json): nothing to log yet; resume it first")
    mlflow = mlflow_module()
    try:
        return _log(mlflow.tracking.MlflowClient(tracking_uri=uri), view, experiment, artifact_root(uri))
    except mlflow.exceptions.MlflowException as err:
        first = str(err.message).strip().splitlines()[0] if str(err.message).strip() else type(err).__name__
        raise ConfigError(f"MLflow at {uri} refused the run: {first}") from None


def artifact_root(uri: str) -> str | None:
    """Where a new experiment keeps its files: beside a local sqlite store (MLflow's default, ./mlruns, is wherever
    the command happened to run); a server's own default elsewhere."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()


def _log(client: Any, view: RunView, experiment: str, artifacts: str | None) -> str:
    from mlflow.entities import Metric, Param, RunTag

    assert view.result is not None
    found = client.get_experiment_by_name(experiment)
    experiment_id = found.experiment_id if found else client.create_experiment(experiment, artifacts)
    where = str(view.path.resolve())
    logged = client.search_runs([experiment_id], filter_string=f"tags.`{RUN_DIR_TAG}` = '{where}' and "
                                                              f"tags.`{RESULT_TAG}` = '{view.result.best_candidate}'")
    if logged:
        return logged[0].info.run_id
    name = f"{view.config.method} {view.config.task} s{view.settings.data.seed}"
    run = client.create_run(experiment_id, run_name=name,
                            tags={RUN_DIR_TAG: where, RESULT_TAG: view.result.best_candidate})
    now = int(time.time() * 1000)
    per_step, final = run_metrics(view)
    metrics = [Metric(name, float(value), now, step) for name, value, step in per_step]
    metrics += [Metric(name, float(value), now, 0) for name, value in final.items()]
    params = [Param(k, v[:6000]) for k, v in run_params(view).items()]
    client.log_batch(run.info.run_id, metrics=metrics, params=params,
                     tags=[RunTag("behavopt.stop_reason", view.result.stop_reason)])
    rundir = RunDir(view.path)
    for path in (rundir.path / REPORT_FILE, rundir.best_prompt_json_path, rundir.best_prompt_path,
                 rundir.result_path, rundir.config_path):
        if path.is_file():
            client.log_artifact(run.info.run_id, str(path))
    client.set_terminated(run.info.run_id)
    return run.info.run_id
