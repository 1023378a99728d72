"""`behavopt eval`: score one prompt on a split of a task with a model."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from behavopt.cli.common import err_console, user_errors
from behavopt.cli.options import Connection, with_shared_options
from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_json, atomic_write_jsonl, writable_dir
from behavopt.eval import EvalSettings, Evaluator
from behavopt.eval.evaluator import EvalResult, missing_cause
from behavopt.eval.prompts import Prompt, SplitSpec
from behavopt.sweep.spread_eval import evaluate_on_ray
from behavopt.tasks import load_task
from behavopt.tasks.data import Fields, task_from_data
from behavopt.tasks.metric import load_metric
from behavopt.tasks.types import Example, Task


def read_prompt(instruction: str | None, prompt_file: Path | None, default: str) -> Prompt:
    """The prompt to score: a prompt file (JSON, e.g. a run's best_prompt.json) or a text file holding an
    instruction, else the instruction given, else the task's own."""
    if instruction is not None and prompt_file is not None:
        raise ConfigError("--instruction and --prompt both given: pass only one")
    if prompt_file is None:
        return Prompt.from_instruction(default if instruction is None else instruction)
    return Prompt.from_file(prompt_file)


def write_eval_dir(out: Path, result: EvalResult, prompt: Prompt) -> None:
    atomic_write_jsonl(out / "records.jsonl", (r.to_dict() for r in result.records))
    atomic_write_json(out / "summary.json", {**result.summary.to_dict(), "prompt": prompt.to_dict()})


@with_shared_options(settings=False)
def eval_command(
    task: Optional[str] = typer.Option(None, "--task", "-t", help="task spec: demo:NAME, bbh:NAME, bigbench:NAME, "
                                       "gsm8k, ii:NAME, cls:NAME, hf:NAME or path/to/task.yaml (or --data)"),
    data: Optional[Path] = typer.Option(None, "--data", help="your own examples to score, all of them (.jsonl, "
                                        ".json, .csv, .tsv), instead of a task's split"),
    input_field: Optional[str] = typer.Option(None, "--input-field", help="with --data: the field holding the "
                                              "input (default: input, question, text, prompt or query)"),
    answer_field: Optional[str] = typer.Option(None, "--answer-field", help="with --data: the field holding the "
                                               "answer (default: answer, target, label or output)"),
    metric: Optional[str] = typer.Option(None, "--metric", help="with --data: your metric, module:function or "
                                         "file.py:function (default: exact match on the answer)"),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="local:NAME, gguf:/path.gguf or openai:MODEL "
                                        "(default: the model a --prompt file was scored with)"),
    prompt_file: Optional[Path] = typer.Option(None, "--prompt", help="a prompt file (.json, e.g. a run's "
                                               "best_prompt.json: its split and request settings are the defaults) "
                                               "or a text file holding an instruction"),
    instruction: Optional[str] = typer.Option(None, "--instruction", help="instruction text (default: the task's "
                                                                          "own)"),
    split: str = typer.Option("test", "--split", help="train, dev or test"),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="score only the first N examples of the split"),
    out: Optional[Path] = typer.Option(None, "--out", help="write records.jsonl and summary.json here"),
    as_json: bool = typer.Option(False, "--json", help="print the summary as JSON on stdout, nothing else"),
    seed: Optional[int] = typer.Option(None, "--seed", help="split and sampling seed (default 0)"),
    train_size: Optional[int] = typer.Option(None, "--train-size", min=0),
    dev_size: Optional[int] = typer.Option(None, "--dev-size", min=0),
    test_size: Optional[int] = typer.Option(None, "--test-size", min=0),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="generation limit per example "
                                                                               "(default 512)"),
    ray: Optional[str] = typer.Option(None, "--ray", help="spread the examples over the Ray cluster at this address "
                                                          "(host:port or auto), records merged into one result"),
    chunks: Optional[int] = typer.Option(None, "--chunks", min=1, help="with --ray: parts the examples are cut into "
                                                                       "(default: one per CPU of the cluster)"),
    connection: Connection = Connection(),
) -> None:
    """Score the task's default prompt (or yours) on a split, with a 95 % interval."""
    run_eval(**locals())


def split_of(prompt: Prompt, task: str, seed: int | None, sizes: tuple[int | None, int | None, int | None]
             ) -> SplitSpec:
    """The split to score on: the sizes and seed given, else those of the run the prompt came from (on its own
    task), else the task's defaults and seed 0."""
    recorded = prompt.source.split if prompt.source and prompt.source.task == task else None
    train, dev, test = sizes
    if recorded is None:
        return SplitSpec(train, dev, test, 0 if seed is None else seed)
    return SplitSpec(recorded.train_size if train is None else train, recorded.dev_size if dev is None else dev,
                     recorded.test_size if test is None else test, recorded.seed if seed is None else seed)


def own_examples(data: Path, input_field: str | None, answer_field: str | None,
                 metric: str | None) -> Task:
    """The user's examples as a task scored by their metric (or exact match), every example in its one split."""
    return task_from_data("", data, metric=load_metric(metric) if metric else None,
                          fields=Fields(input=input_field, answer=answer_field), name=data.stem)


@user_errors
def run_eval(*, task: str | None, data: Path | None, input_field: str | None, answer_field: str | None,
             metric: str | None, model: str | None, prompt_file: Path | None, instruction: str | None, split: str,
             limit: int | None, out: Path | None, as_json: bool, seed: int | None, train_size: int | None,
             dev_size: int | None, test_size: int | None, max_tokens: int | None, ray: str | None,
             chunks: int | None, connection: Connection) -> None:
    if (task is None) == (data is None):
        raise ConfigError("name what to score: --task SPEC for a built-in task's split, or --data FILE for your own "
                          "examples (not both)")
    if data is not None:
        if prompt_file is None and instruction is None:
            raise ConfigError("--data needs the prompt to score: pass --prompt FILE or --instruction TEXT")
        prompt = read_prompt(instruction, prompt_file, "")
        loaded = own_examples(data, input_field, answer_field, metric)
        task, split, at = loaded.name, "data", SplitSpec(None, None, None, 0 if seed is None else seed)
        examples = loaded.examples
    else:
        assert task is not None
        if metric is not None:
            raise ConfigError("--metric scores your own --data: a built-in task has its own metric")
        loaded = load_task(task, data_dir=connection.data_dir)
        prompt = read_prompt(instruction, prompt_file, loaded.instruction)
        at = split_of(prompt, task, seed, (train_size, dev_size, test_size))
        examples = loaded.split(at.train_size, at.dev_size, at.test_size, seed=at.seed).get(split)
    if out is not None:
        writable_dir(out)  # before the model is asked anything
    if limit is not None:
        examples = examples[:limit]
    if not examples:
        raise ConfigError(f"the {split} split of {task} is empty: choose a larger --{split}-size or another split")
    if model is None:
        if prompt.scored_with is None:
            raise ConfigError("no --model: pass the model to score with (the prompt file does not name one)")
        model = prompt.scored_with.model
    if max_tokens is None:
        max_tokens = prompt.scored_with.max_tokens if prompt.scored_with else 512
    temperature = prompt.scored_with.temperature if prompt.scored_with else 0.0
    settings = EvalSettings(max_tokens=max_tokens, temperature=temperature, seed=at.seed)
    if ray is not None:
        result = spread(ray, chunks, loaded, model, prompt, examples, settings, split, connection)
    else:
        result = evaluate_here(loaded, model, prompt, examples, settings, split, task, connection)
    report_eval(result, out, prompt, as_json)


def spread(address: str, chunks: int | None, task: Task, model: str, prompt: Prompt, examples: list[Example],
           settings: EvalSettings, split: str, connection: Connection) -> EvalResult:
    options = connection.worker_options("Ray workers")
    err_console.print(f"[dim]scoring {len(examples)} examples on the Ray cluster at {address}[/]", highlight=False)
    return evaluate_on_ray(address, task, model, prompt, examples, settings, split, options, chunks)


def evaluate_here(loaded: Task, model: str, prompt: Prompt, examples: list[Example], settings: EvalSettings, split: str,
                  task: str, connection: Connection) -> EvalResult:
    pool = connection.pool()
    evaluator = Evaluator(loaded, pool.lm(model, "target"), settings)

    async def go() -> EvalResult:
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          TextColumn("{task.fields[acc]}"), console=err_console, transient=True) as progress:
                bar = progress.add_task(f"eval {task} ({split})", total=len(examples), acc="")
                correct = 0

                def tick(record) -> None:  # type: ignore[no-untyped-def]
                    nonlocal correct
                    correct += record.correct
                    done = progress.tasks[0].completed + 1
                    progress.update(bar, advance=1, acc=f"acc {correct}/{int(done)}")

                return await evaluator.evaluate(prompt, examples, split=split, on_record=tick)
        finally:
            await pool.aclose()

    return asyncio.run(go())


def report_eval(result: EvalResult, out: Path | None, prompt: Prompt, as_json: bool) -> None:
    if out is not None:
        write_eval_dir(out, result, prompt)
    s = result.summary
    if as_json:
        print(json.dumps({**s.to_dict(), **({"out": str(out)} if out else {})}))
        exit_if_incomplete(result)
        return
    lo, hi = s.ci95
    print(f"{s.task} [{s.split}] with {s.model}: accuracy {s.accuracy:.3f} ({s.correct}/{s.n}), "
          f"95% CI [{lo:.3f}, {hi:.3f}]")
    print(f"  answer-frequency chance {s.answer_chance:.3f} (the same answers shuffled across the examples)")
    u = s.usage
    print(f"  LM calls {u['calls']}, cache hits {u['cache_hits']}, tokens {u['prompt_tokens']}+{u['completion_tokens']}, "
          f"errors {s.errors} ({s.lm_errors} in the LM), {s.wall_s:.1f}s")
    if out is not None:
        print(f"  records: {out / 'records.jsonl'}  summary: {out / 'summary.json'}")
    exit_if_incomplete(result)


def exit_if_incomplete(result: EvalResult) -> None:
    """Missing examples are never scores: say so, name the cause, and exit 3 so that no script takes it as whole."""
    s = result.summary
    if s.complete:
        return
    cause, count = missing_cause(result.records)
    err_console.print(f"[bold red]incomplete:[/] {s.missing} of {s.n + s.missing} examples got no answer from the "
                      f"model and are left out of the score ({count} of them: {cause}); run the same command again to "
                      "fill in just those (the answered ones come from the cache)", highlight=False, soft_wrap=True)
    raise typer.Exit(3)
