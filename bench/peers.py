"""behavopt's `apo`, `opro` and `abo` against peer prompt optimizers (DSPy 3.x MIPROv2 and COPRO, GEPA) on the same
OpenAI-compatible servers, target and optimizer models, train/dev/test splits, metric and LM-call budget.

Writes bench/results/<date>-peers.json and a markdown table beside it: per task and system the initial and best test
accuracy (behavopt's own metric, `task.is_correct`, on the same test split for everyone), LM calls and tokens counted
at the HTTP level, and wall seconds. Run directories go to bench/results/runs/peers/ (not tracked, rebuilt each run).

Needs the `bench` extra (DSPy, GEPA, Optuna for MIPROv2): `.venv/bin/pip install -e '.[bench]'`.

Real run, servers started by hand (one `behavopt serve` per model; served name = the local model name):

    .venv/bin/behavopt serve local:qwen2.5-coder-0.5b --port 8080 &
    .venv/bin/behavopt serve local:qwen2.5-coder-1.5b --port 8081 &
    .venv/bin/python bench/peers.py --base-url http://127.0.0.1:8080 --optimizer-base-url http://127.0.0.1:8081 \
        --tasks bbh:object_counting bbh:navigate --data-dir ../shared/benchmarks --max-calls 600

or let the script start and stop both servers (`python -m behavopt.cli.main serve local:NAME --port P`, ports
--port and --port + 1, logs in bench/results/runs/peers/serve-NAME.log; --serve-threads N is passed as --threads,
otherwise llama-cpp-python's default of half the cores applies; --llama-server .build/llama-server serves with
llama.cpp's own server and --parallel N slots instead of llama-cpp-python's one slot):

    .venv/bin/python bench/peers.py --serve --tasks bbh:object_counting bbh:navigate \
        --data-dir ../shared/benchmarks --max-calls 600

Model names are the served names (`--target qwen2.5-coder-0.5b --optimizer qwen2.5-coder-1.5b` are the defaults);
`--systems` picks a subset of apo opro abo miprov2 copro gepa (default: all six) or adds miprov2-fewshot.

How the comparison is kept fair:

- Splits: behavopt's `task.split(train, dev, test, seed)` with the `--preset` sizes (quick: 30/25/50, seed 0). Train is
  what an optimizer may learn from (errors, demos, reflection minibatches), dev is what it selects on (behavopt's dev
  scores, MIPROv2's valset, GEPA's valset, COPRO's evaluation set), test is scored once at the end, for the initial
  and for the best prompt of every system. Peers get `dspy.Example(question=input, answer=target)` / GEPA's
  `{"input", "answer", "additional_context"}` built from the same examples.
- Metric: every system is scored (during search and on test) with behavopt's `task.is_correct`: on DSPy's parsed
  `answer` field, on GEPA's raw response (its feedback text names the extracted and the gold answer).
- Start: every system starts from the task's instruction (`task.instruction`): the DSPy signature
  "question -> answer" carries it as its instructions, GEPA's seed candidate is {"instruction": task.instruction}.
- Sampling: target temperature 0 and `target_max_tokens` of the preset (quick: 256); optimizer temperature
  `optimizer_temperature` (0.7) and `optimizer_max_tokens` (400). No response cache anywhere (behavopt cache=False,
  dspy.LM cache=False), so every call reaches the server.
- Counting: every system talks to the servers through one counting proxy (a thread in this process), at
  `http://127.0.0.1:P/s/<system>/<phase>/<role>/v1`. It counts each upstream chat request and sums the response's
  `usage.prompt_tokens`/`completion_tokens` per system, phase (search or test; behavopt's run is one phase, its test
  calls are read from its records) and role. llama-cpp-python's server ignores `n` (one choice per request), so a
  request with n > 1 (COPRO asks for `breadth` instructions in one call) is fanned out into n requests and counted
  as n calls (`--no-fanout` turns this off).
- Budget `--max-calls` (search calls, the final test evaluation excluded, as in behavopt's `--max-calls`):
  behavopt `max_calls`; GEPA `max_metric_calls` (which counts target rollouts only) plus a stop callback that
  counts all its calls at the proxy, reflection included, and stops before an iteration that could pass the budget
  (2 minibatches of 3 + 1 reflection + 1 full dev evaluation); COPRO depth 3 and the largest breadth whose calls
  fit the budget (depth x breadth x |dev| target calls + the proposals: breadth 7, about 545 calls for 600 and
  dev 25); MIPROv2 `auto="light"` fixes its own size (6 instruction candidates, the default program and 9 trials on
  the 25 dev examples, plus some bootstrapping on train and about 20 proposer calls: about 290 calls, measured on
  the plumbing test's fake server), so it spends about half of 600 and cannot be raised without leaving "light".
  The table reports the real counted calls and whether each system stayed within the budget.
- Peers' settings: MIPROv2(auto="light", max_bootstrapped_demos=0, max_labeled_demos=0) by default: instruction
  only, the same search space as apo/opro/COPRO/GEPA (`miprov2-fewshot` adds up to --fewshot-demos bootstrapped
  demos, labeled demos 0); COPRO(breadth from the budget, depth=3, init_temperature=1.4); GEPA 0.1.4 `optimize` with
  its DefaultAdapter (instruction as system message, input as user message), reflection minibatch 3, Pareto
  candidate selection, no merge. DSPy runs 4 threads, GEPA 4 LiteLLM workers, behavopt its default concurrency;
  llama-cpp-python's server answers one request at a time, so this only keeps the queue full; with
  --llama-server and --parallel N, up to N requests of each system are decoded together.

Each system runs in try/except: a failure is recorded in the results (error text) and the next system runs.
The results files are rewritten after every system; `--resume` (same --name and settings) keeps the rows without
error of an interrupted run and runs only the rest.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import harness
from peerbench.context import make_context
from peerbench.proxy import CountingProxy
from peerbench.report import finished_rows, fmt, markdown
from peerbench.servers import start_servers, wait_ready
from peerbench.systems import ALL_SYSTEMS, DEFAULT_SYSTEMS, run_system


def build_parser() -> argparse.ArgumentParser:
    ap = harness.parser(__doc__, epilog="See the module docstring for the real-run commands and the peers' settings.")
    harness.add_shared(ap, {"target": "its served name", "optimizer": "its served name",
                            "max_calls": "search calls per system and task", "llama_server": "with --serve"},
                       tasks=["bbh:object_counting", "bbh:navigate"], target="qwen2.5-coder-0.5b",
                       optimizer="qwen2.5-coder-1.5b", max_calls=600, seed=0, preset="quick", data_dir=None,
                       llama_server=None, parallel=4, name="peers")
    ap.add_argument("--systems", nargs="+", default=list(DEFAULT_SYSTEMS), choices=ALL_SYSTEMS)
    ap.add_argument("--base-url", default=None, help="running server of the target (http://HOST:PORT[/v1])")
    ap.add_argument("--optimizer-base-url", default=None,
                    help="running server of the optimizer (default: --base-url)")
    ap.add_argument("--serve", action="store_true",
                    help="start `behavopt serve local:NAME` for both models, stop them at the end")
    ap.add_argument("--port", type=int, default=8080, help="with --serve: target port; the optimizer gets port + 1")
    ap.add_argument("--serve-threads", type=int, default=None, help="with --serve: threads per server")
    ap.add_argument("--serve-timeout", type=float, default=1800, help="with --serve: seconds to wait for the servers")
    ap.add_argument("--fewshot-demos", type=int, default=2, help="bootstrapped demos of miprov2-fewshot")
    ap.add_argument("--no-fanout", action="store_true", help="forward n > 1 requests as they are")
    ap.add_argument("--resume", action="store_true",
                    help="keep the rows without error of an earlier run with the same settings and --name; run the "
                         "rest")
    return ap


def settings_of(args: argparse.Namespace) -> dict:
    """What the results file records of this benchmark's settings (sizes filled in once a task is split)."""
    return {"target": args.target, "optimizer": args.optimizer, "preset": args.preset, "seed": args.seed,
            "max_calls": args.max_calls, "sizes": None, "fanout_n": not args.no_fanout, "tasks": args.tasks,
            "systems": args.systems}


def run_task(task_spec: str, args: argparse.Namespace, urls: tuple[str, str], meta: dict, rows: list[dict],
             done: set[tuple[str, str]]) -> None:
    """Every system not yet done on one task; the results files are rewritten after each."""
    # One proxy per task: its counts are per system, so a shared one would add up a system's tasks.
    with CountingProxy({"target": urls[0], "optimizer": urls[1]}, fanout_n=not args.no_fanout) as proxy:
        ctx = make_context(task_spec, target=args.target, optimizer=args.optimizer, proxy=proxy,
                           max_calls=args.max_calls, preset=args.preset, data_dir=args.data_dir, seed=args.seed,
                           out_dir=harness.RUNS / "peers" / harness.slug(task_spec))
        ctx.fewshot_demos = args.fewshot_demos
        for system in args.systems:
            if (task_spec, system) in done:
                print(f"{task_spec} {system}: kept from {harness.results_stem(args.name)}.json", flush=True)
                continue
            print(f"{task_spec} {system} ...", flush=True)
            row = run_system(ctx, system)
            rows.append(row)
            print(f"  {task_spec} {system}: {fmt(row['initial_test'])} -> {fmt(row['best_test'])}, "
                  f"{row['search_calls']} search calls + {row['test_calls']} test calls, "
                  f"{row['wall_s']:.0f}s" + (f", ERROR {row['error']}" if row["error"] else ""), flush=True)
            meta["sizes"] = [len(ctx.splits.train), len(ctx.splits.dev), len(ctx.splits.test)]
            harness.write_results(args.name, {**meta, "rows": rows}, markdown(rows, meta))


def main(argv: list[str] | None = None) -> None:
    ap = build_parser()
    args = ap.parse_args(argv)
    if not args.serve and not args.base_url:
        ap.error("give --base-url (and --optimizer-base-url) of running servers, or --serve")
    meta = settings_of(args)
    stem = harness.results_stem(args.name)
    try:
        rows = finished_rows(Path(f"{stem}.json"), meta) if args.resume else []
    except ValueError as err:
        ap.error(str(err))
    done = {(r["task"], r["system"]) for r in rows}
    with contextlib.ExitStack() as servers:
        if args.serve:
            urls = start_servers(args, servers)
        else:
            urls = (args.base_url, args.optimizer_base_url or args.base_url)
            wait_ready(urls[0], 60)
            wait_ready(urls[1], 60)
        for task_spec in args.tasks:
            run_task(task_spec, args, urls, meta, rows, done)
    if rows:
        print(Path(f"{stem}.md").read_text())
        print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
