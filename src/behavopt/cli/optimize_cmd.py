"""`behavopt optimize`: search for a better prompt with one method, then report initial vs best on test."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.live import Live
from rich.text import Text

from behavopt.cli.common import err_console, open_cache, user_errors
from behavopt.optimizers.methods import METHOD_NAMES
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.run import RunSpec, run_optimization
from behavopt.optimizers.settings import preset as settings_preset


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


def optimize_command(
    task: str = typer.Option(..., "--task", "-t", help="task spec, as for `behavopt eval`"),
    method: str = typer.Option("apo", "--method", "-M", help=f"one of {', '.join(METHOD_NAMES)}"),
    target: str = typer.Option("local:qwen2.5-coder-0.5b", "--target", help="the model whose prompt is optimized"),
    optimizer: str = typer.Option("local:qwen2.5-coder-1.5b", "--optimizer", help="the model that proposes prompts"),
    out: Path = typer.Option(..., "--out", help="run directory (config, events, checkpoints, result)"),
    resume: bool = typer.Option(False, "--resume", help="continue the run in --out from its last checkpoint"),
    preset: str = typer.Option("default", "--preset", help="default (the study's setting) or quick"),
    steps: Optional[int] = typer.Option(None, "--steps", min=0),
    beam: Optional[int] = typer.Option(None, "--beam", min=1),
    expand: Optional[int] = typer.Option(None, "--expand", min=1, help="children per beam candidate per step"),
    initial: Optional[int] = typer.Option(None, "--initial", min=1, help="initial candidates"),
    errors: Optional[int] = typer.Option(None, "--errors", min=1, help="error examples per reflection"),
    seed: Optional[int] = typer.Option(None, "--seed"),
    train_size: Optional[int] = typer.Option(None, "--train-size", min=1),
    dev_size: Optional[int] = typer.Option(None, "--dev-size", min=1),
    test_size: Optional[int] = typer.Option(None, "--test-size", min=1),
    train_batch: Optional[int] = typer.Option(None, "--train-batch", min=1, help="train examples scored per parent"),
    minibatch: Optional[int] = typer.Option(None, "--minibatch", min=1, help="drop clear losers on N dev examples"),
    selection: Optional[str] = typer.Option(None, "--selection", help="full or ucb"),
    abo_demo: Optional[bool] = typer.Option(None, "--demo/--no-demo",
                                            help="abo: show an instruction-following demonstration (default) or not"),
    abo_rendering: Optional[str] = typer.Option(None, "--demo-rendering",
                                                help="abo: demonstration as chat turns (default) or in the system"),
    target_max_tokens: Optional[int] = typer.Option(None, "--target-max-tokens", min=1,
                                                    help="generation limit of the target per example"),
    optimizer_max_tokens: Optional[int] = typer.Option(None, "--optimizer-max-tokens", min=1,
                                                       help="generation limit of the optimizer per call"),
    max_calls: Optional[int] = typer.Option(None, "--max-calls", min=1, help="end cleanly at this many LM calls"),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="end cleanly at this many tokens"),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="benchmark data root (default $BEHAVOPT_DATA)"),
    no_cache: bool = typer.Option(False, "--no-cache", help="neither read nor write the response cache"),
    cache_path: Optional[Path] = typer.Option(None, "--cache-path"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="OpenAI-compatible server (or OPENAI_BASE_URL)"),
    api_key: Optional[str] = typer.Option(None, "--api-key", help="API key (better: OPENAI_API_KEY)",
                                          show_default=False),
    as_json: bool = typer.Option(False, "--json", help="print result.json on stdout, nothing else"),
) -> None:
    """Optimize the task's prompt for the target model; prints initial vs optimized test accuracy."""
    run_optimize(**locals())


@user_errors
def run_optimize(*, task: str, method: str, target: str, optimizer: str, out: Path, resume: bool, preset: str,
                 data_dir: Path | None, no_cache: bool, cache_path: Path | None, threads: int | None,
                 base_url: str | None, api_key: str | None, as_json: bool, **overrides: Any) -> None:
    settings = settings_preset(preset).with_overrides(**overrides)
    with Live(Text("starting..."), console=err_console, transient=True, refresh_per_second=2) as live:
        spec = RunSpec(task=task, method=method, target=target, optimizer=optimizer, settings=settings, out=out,
                       resume=resume, data_dir=data_dir, cache=open_cache(no_cache, cache_path), threads=threads,
                       base_url=base_url, api_key=api_key, on_update=LiveStatus(live),
                       on_notice=lambda m: live.console.print(f"[yellow]{m}[/]", highlight=False))
        result = asyncio.run(run_optimization(spec))
    if as_json:
        print(json.dumps(result.to_dict()))
        return
    u = result.usage
    i_lo, i_hi = result.initial_test_ci95
    b_lo, b_hi = result.best_test_ci95
    print(f"{result.method} on {result.task}, target {result.target}, optimizer {result.optimizer}")
    print(f"  initial prompt: dev {result.initial_dev_score:.3f}  test {result.initial_test_score:.3f} "
          f"[{i_lo:.2f}, {i_hi:.2f}]")
    print(f"  best prompt ({result.best_candidate}): dev {result.best_dev_score:.3f}  test "
          f"{result.best_test_score:.3f} [{b_lo:.2f}, {b_hi:.2f}]   (test n={result.test_size})")
    for line in caveats(result):
        print("  " + line)
    print(f"  stopped: {result.stop_reason}; LM calls target {u['target'].get('calls', 0)}, optimizer "
          f"{u['optimizer'].get('calls', 0)}; {u['wall_s']:.0f}s")
    print(f"  result: {Path(result.run_dir) / 'result.json'}  best prompt: {Path(result.run_dir) / 'best_prompt.txt'}")


def caveats(result: OptimizationResult) -> list[str]:
    """What the scores alone hide: a gain that only moves the target toward the commoner gold answer, and a target
    that copies its demonstration's answer."""
    lines = [f"label shift on {split}: the gain {gain:+.3f} is no more than the {chance_gain:+.3f} that the best "
             "prompt's answer frequencies alone give (answer_chance in result.json): it gives the commoner gold "
             "answer more often rather than solving more examples"
             for split, gain, chance_gain in result.label_shifts()]
    copying = result.demo_copying()
    if copying:
        answer, share, gold = copying
        lines.append(f"demonstration copied?: the target gives the demonstration's own answer {answer!r} to "
                     f"{share:.0%} of dev inputs, where {gold:.0%} have it: it may copy the worked example rather "
                     "than follow the steps (demo_answer_share in result.json)")
    return lines
