"""`behavopt optimize`: search for a better prompt with one method, then report initial vs best on test."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

import typer
from rich.live import Live
from rich.text import Text

from behavopt.cli.common import err_console, user_errors
from behavopt.cli.options import Connection, OwnData, with_shared_options
from behavopt.core.errors import ConfigError
from behavopt.lm.types import Usage
from behavopt.optimizers.api import run_spec
from behavopt.optimizers.estimate import compared
from behavopt.optimizers.engine.cost import Price
from behavopt.optimizers.methods import method_names
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.run import run_optimization
from behavopt.report.caveats import caveats
from behavopt.report.run import write_run_report
from behavopt.report.tracking import log_run, mlflow_module
from behavopt.study.answers import run_answers
from behavopt.study.runview import RunView


def _fmt_s(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s"


class LiveStatus:
    """One status line on stderr: step, best dev score, calls and tokens against the budget, elapsed, remaining."""

    def __init__(self, live: Live):
        self.live = live

    def __call__(self, info: dict[str, Any]) -> None:
        calls, est = info["calls"], info.get("estimated_calls") or 0
        budget = f"/{info['max_calls']}" if info.get("max_calls") else f" (~{est} est.)"
        tokens = f"{info['tokens']}" + (f"/{info['max_tokens']}" if info.get("max_tokens") else "")
        best = "-" if info["best_dev"] is None else f"{info['best_dev']:.3f}"
        elapsed = info["elapsed_s"]
        remaining = "?"
        if calls and est > calls:
            remaining = _fmt_s(elapsed / calls * (est - calls))
        step = max(info["step"], 0)
        self.live.update(Text(f"step {step}/{info.get('steps_total', '?')}  best dev {best}  calls {calls}{budget}  "
                              f"tokens {tokens}  elapsed {_fmt_s(elapsed)}  remaining ~{remaining}"))


@with_shared_options(own_data=True)
def optimize_command(
    task: Optional[str] = typer.Option(None, "--task", "-t", help="a built-in task spec, as for `behavopt eval` "
                                       "(or your own data: --train with --prompt-file)"),
    price: list[str] = typer.Option([], "--price", help="MODEL=IN/OUT: USD per million input/output tokens, for "
                                    "estimates and --max-usd (local models cost 0); repeat for each model"),
    method: str = typer.Option("apo", "--method", "-M", help=f"one of {', '.join(method_names())}"),
    target: str = typer.Option("local:qwen2.5-coder-0.5b", "--target", help="the model whose prompt is optimized"),
    optimizer: str = typer.Option("local:qwen2.5-coder-1.5b", "--optimizer", help="the model that proposes prompts"),
    out: Path = typer.Option(..., "--out", help="run directory (config, events, checkpoints, result)"),
    resume: bool = typer.Option(False, "--resume", help="continue the run in --out from its last checkpoint"),
    preset: str = typer.Option("default", "--preset", help="default (the study's setting) or quick"),
    as_json: bool = typer.Option(False, "--json", help="print result.json on stdout, nothing else"),
    report: bool = typer.Option(True, "--report/--no-report", help="write OUT/report.html at the end: scores, "
                                "cost, the search, the lineage with diffs, the examples fixed and regressed"),
    mlflow: Optional[str] = typer.Option(None, "--mlflow", help="log the finished run to MLflow at this tracking "
                                         "URI (sqlite:///path/mlflow.db, http://host:5000); needs behavopt[tracking]"),
    mlflow_experiment: str = typer.Option("behavopt", "--mlflow-experiment", help="the MLflow experiment to log to"),
    connection: Connection = Connection(),
    own: OwnData = OwnData(),
    overrides: dict[str, Any] | None = None,
) -> None:
    """Optimize the prompt of a built-in task, or your own (--prompt-file, --train, --metric), for the target model;
    prints initial vs optimized test scores."""
    run_optimize(**locals())


def parse_price_options(options: list[str]) -> dict[str, Price]:
    prices = {}
    for option in options:
        model, sep, value = option.rpartition("=")
        if not sep or not model:
            raise ConfigError(f"--price {option} is not MODEL=IN/OUT: write e.g. --price openai:gpt-x=0.15/0.6")
        prices[model] = Price.parse(value)
    return prices


@user_errors
def run_optimize(*, task: str | None, price: list[str], method: str, target: str, optimizer: str, out: Path,
                 resume: bool, preset: str, as_json: bool, report: bool, mlflow: str | None, mlflow_experiment: str,
                 connection: Connection, own: OwnData, overrides: dict[str, Any] | None) -> None:
    if task is None and own.train is None:
        raise ConfigError("no task: pass --task SPEC for a built-in task, or --train FILE with --prompt-file for your "
                          "own")
    if mlflow:
        mlflow_module()  # missing MLflow is said now, not after the run
    spec = run_spec(**own.task_parts(), task=task, method=method, target=target, optimizer=optimizer, preset=preset,
                    settings=overrides or {}, prices=parse_price_options(price), base_url=connection.base_url,
                    data_dir=connection.data_dir)
    with Live(Text("starting..."), console=err_console, transient=True, refresh_per_second=2) as live:
        spec = replace(spec, out=out, resume=resume, cache=connection.response_cache(), threads=connection.threads,
                       slots=connection.slots, retries=connection.retries, api_key=connection.api_key,
                       on_update=LiveStatus(live),
                       on_notice=lambda m: live.console.print(f"[yellow]{m}[/]", highlight=False))
        result = asyncio.run(run_optimization(spec))
    written = write_run_report(result.run_dir) if report else None
    logged = log_run(result.run_dir, mlflow, mlflow_experiment) if mlflow else None
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    print_result(result)
    if written:
        print(f"  report: {written}")
    if logged:
        print(f"  logged to MLflow at {mlflow}: run {logged}")


def print_result(result: OptimizationResult) -> None:
    u = result.usage
    i_lo, i_hi = result.initial_test_ci95
    b_lo, b_hi = result.best_test_ci95
    print(f"{result.method} on {result.task}, target {result.target}, optimizer {result.optimizer}")
    if result.estimate and result.spent:
        print(f"  estimate / actual: {compared(result.estimate, result.spent, bool(result.spent.usd))}")
    print(f"  initial prompt: dev {result.initial_dev_score:.3f}  test {result.initial_test_score:.3f} "
          f"[{i_lo:.2f}, {i_hi:.2f}]")
    print(f"  best prompt ({result.best_candidate}): dev {result.best_dev_score:.3f}  test "
          f"{result.best_test_score:.3f} [{b_lo:.2f}, {b_hi:.2f}]   (test n={result.test_size})")
    if result.test_comparison is not None:
        print(f"  best against initial on the same test examples: {result.test_comparison.describe()}")
    for line in caveats(result, run_answers(RunView.load(result.run_dir))):
        print("  " + line)
    print(f"  stopped: {result.stop_reason}; LM calls target {u.target.calls}, optimizer {u.optimizer.calls}; "
          f"{u.wall_s:.0f}s")
    for role in ("target", "optimizer"):
        line = time_split(role, u.for_role(role))  # type: ignore[arg-type]
        if line:
            print("  " + line)
    run_dir = Path(result.run_dir)
    print(f"  result: {run_dir / 'result.json'}  best prompt: {run_dir / 'best_prompt.json'}")


def time_split(role: str, usage: Usage) -> str | None:
    """Where a role's LM time went, as the server counted it: prompt tokens reused, prompt processing, generation."""
    reuse = usage.prefix_reuse()
    if reuse is None:
        return None
    other = usage.seconds - usage.prompt_s - usage.generate_s
    return (f"{role}: {reuse:.0%} of prompt tokens reused from a cached prefix; {usage.prompt_s:.0f}s prompt "
            f"processing, {usage.generate_s:.0f}s generation, {other:.0f}s other")
