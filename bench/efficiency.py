"""Engine efficiency, measured in one run and printed as figures and ratios (issue 6):

(a) framework overhead: the wall time of an optimization run (in-process llama.cpp, cache off, models loaded
    before the clock starts) against the summed time of its LM calls; overhead = 1 - LM seconds / wall seconds.
(b) throughput: evaluating N examples through behavopt's OpenAI backend at concurrency 1, 2, 4, 8 against a server,
    vs the same server's saturated throughput measured directly (raw HTTP, the same requests, concurrency 8): after a
    warm-up pass, raw and behavopt runs alternate, and each behavopt run is compared with the mean of the raw runs
    just before and after it.
    With `--base-url` any OpenAI-compatible server (e.g. vLLM); without it a `behavopt serve` is started for the run:
    llama-cpp-python's (one slot), or with `--llama-server .build/llama-server --parallel N` llama.cpp's own server
    with N slots decoded together.
(c) a warm-cache rerun of (a): LM calls and seconds.

Writes bench/results/<date>-<name>.json (name: efficiency).

    .venv/bin/python bench/efficiency.py [--model smollm2-135m] [--n 100] [--base-url http://127.0.0.1:8080/v1]
    .venv/bin/python bench/efficiency.py --llama-server .build/llama-server --parallel 4 --name efficiency-slots4
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import harness
import httpx

from behavopt.eval import EvalSettings, Evaluator, InstructionPrompt
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.types import ChatRequest, Message
from behavopt.optimizers.run import optimize_task
from behavopt.tasks import load_task

TASK = "demo:object-counting"
SMALL = dict(initial=3, beam=2, expand=2, steps=2, errors=2, train_size=20, dev_size=15, test_size=20, train_batch=8,
             target_max_tokens=64, optimizer_max_tokens=128)


def run_search(model: str, threads: int, out: Path, cache: ResponseCache | None) -> dict:
    spec = f"local:{model}?threads={threads}"

    async def warm() -> None:  # load the model before the clock starts, as a long-running process would have it
        async with ModelPool(threads=threads) as pool:
            await pool.lm(spec, "target").complete(ChatRequest((Message("user", "hi"),), max_tokens=2))

    asyncio.run(warm())
    start = time.perf_counter()
    result = optimize_task(TASK, "apo", spec, spec, out=out, cache=cache if cache is not None else False, **SMALL)
    wall = time.perf_counter() - start
    u = result.usage
    lm_s = u.target.seconds + u.optimizer.seconds
    reuse = u.target.plus(u.optimizer).prefix_reuse()
    return {"wall_s": round(wall, 3), "lm_s": round(lm_s, 3), "calls": u.calls, "cache_hits": u.cache_hits,
            "overhead": round(1 - lm_s / wall, 4) if wall else None,
            # as llama.cpp counted it: prompt tokens reused from a cached prefix, seconds of prompt and generation
            "prefix_reuse": round(reuse, 4) if reuse is not None else None,
            "prompt_s": round(u.target.prompt_s + u.optimizer.prompt_s, 3),
            "generate_s": round(u.target.generate_s + u.optimizer.generate_s, 3)}


def requests_for(n: int, max_tokens: int) -> tuple[list[ChatRequest], list]:
    task = load_task(TASK)
    examples = task.examples[:n]
    prompt = InstructionPrompt(task.instruction)
    reqs = [ChatRequest(tuple(prompt.render(e)), max_tokens=max_tokens, temperature=0.0, seed=0) for e in examples]
    return reqs, examples


async def raw_saturated(base_url: str, name: str, reqs: list[ChatRequest], concurrency: int) -> float:
    """Requests per second of the server itself: plain HTTP, `concurrency` in flight, no client library."""
    limit = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=600) as client:
        async def one(r: ChatRequest) -> None:
            async with limit:
                body = {"model": name, "messages": [{"role": m.role, "content": m.content} for m in r.messages],
                        "max_tokens": r.max_tokens, "temperature": 0.0, "seed": 0}
                (await client.post("/chat/completions", json=body)).raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(one(r) for r in reqs))
        return len(reqs) / (time.perf_counter() - start)


async def behavopt_throughput(base_url: str, name: str, n: int, max_tokens: int, concurrency: int) -> float:
    task = load_task(TASK)
    async with ModelPool(base_url=base_url) as pool:
        lm = pool.lm(f"openai:{name}?concurrency={concurrency}", "target")
        evaluator = Evaluator(task, lm, EvalSettings(max_tokens=max_tokens, seed=0))
        start = time.perf_counter()
        result = await evaluator.evaluate(InstructionPrompt(task.instruction), task.examples[:n])
        elapsed = time.perf_counter() - start
        if result.summary.lm_errors:
            raise SystemExit(f"{result.summary.lm_errors} LM errors at concurrency {concurrency}")
        return n / elapsed


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, {"n": "examples for the throughput part"}, model="smollm2-135m", threads=2, n=100,
                       max_tokens=48, llama_server=None, parallel=4, name="efficiency")
    ap.add_argument("--base-url", default=None, help="a running OpenAI-compatible server (default: start one)")
    ap.add_argument("--served-name", default=None, help="model name on that server (default: --model)")
    return ap.parse_args()


def throughput(base: str, name: str, server: str, args: argparse.Namespace) -> dict:
    """(b): behavopt's rate at concurrency 1, 2, 4, 8 against the server's own, each between two raw runs."""
    reqs, _ = requests_for(args.n, args.max_tokens)
    # A whole warm-up pass first: the server's rate climbs over its first passes (prompt cache, memory), and a
    # cold first pass measured as the reference made behavopt look faster than the server (110 %).
    asyncio.run(raw_saturated(base, name, reqs, 8))
    # Each behavopt run sits between two raw runs and is compared with their mean, so a drift of the server's
    # rate during the benchmark (seen here: 3.2 -> 3.65 req/s over six passes) does not bias the ratio.
    raw = [asyncio.run(raw_saturated(base, name, reqs, 8))]
    runs = {}
    for c in (1, 2, 4, 8):
        runs[c] = asyncio.run(behavopt_throughput(base, name, args.n, args.max_tokens, c))
        raw.append(asyncio.run(raw_saturated(base, name, reqs, 8)))
    out = {"server_saturated_rps": round(max(raw), 3), "server_rps_runs": [round(r, 3) for r in raw],
           "server": server, "ratio": "behavopt's rate / the mean of the raw runs just before and after"}
    for i, (c, rps) in enumerate(runs.items()):
        out[f"behavopt_c{c}_rps"] = round(rps, 3)
        out[f"ratio_c{c}"] = round(rps / ((raw[i] + raw[i + 1]) / 2), 4)
    return out


def served_throughput(args: argparse.Namespace) -> dict:
    """(b) against --base-url, or against a `behavopt serve` started for it and stopped after."""
    if args.base_url:
        return throughput(args.base_url, args.served_name or args.model, args.base_url, args)
    extra = ["--llama-server", args.llama_server, "--parallel", str(args.parallel)] if args.llama_server else []
    server = (f"behavopt serve --llama-server (llama.cpp server, {args.parallel} slots)" if args.llama_server
              else "behavopt serve (llama-cpp-python, 1 slot)")
    serve_proc, base = harness.start_server(args.model, args.threads, extra)
    try:
        return throughput(base, args.served_name or args.model, server, args)
    finally:
        serve_proc.stop()


def report(fig: dict) -> None:
    cold, warm, t = fig["search_cold"], fig["search_warm"], fig["throughput"]
    print(f"(a) overhead: wall {cold['wall_s']:.1f}s, LM calls {cold['lm_s']:.1f}s over {cold['calls']} calls -> "
          f"overhead {cold['overhead']:.1%} (target <= 3%)")
    if cold.get("prefix_reuse") is not None:
        print(f"    prompt tokens reused {cold['prefix_reuse']:.1%}; llama.cpp's prompt processing "
              f"{cold['prompt_s']:.1f}s, generation {cold['generate_s']:.1f}s (an ABO run, lever by lever: "
              "bench/engine_speed.py)")
    print(f"(b) throughput: server saturated {'/'.join(f'{r:.2f}' for r in t['server_rps_runs'])} req/s; behavopt "
          + ", ".join(f"c{c} {t[f'behavopt_c{c}_rps']:.2f} ({t[f'ratio_c{c}']:.0%})" for c in (1, 2, 4, 8))
          + " (target >= 95% at saturation)")
    print(f"(c) warm rerun: {warm['calls']} LM calls, {warm['cache_hits']} cache hits, {warm['wall_s']:.2f}s "
          "(target 0 calls)")


def main() -> None:
    args = parse_args()
    fig: dict = {"model": args.model, "threads": args.threads}
    with tempfile.TemporaryDirectory() as tmp:
        cache = ResponseCache(Path(tmp) / "cache.sqlite")
        fig["search_cold"] = run_search(args.model, args.threads, Path(tmp) / "cold", cache)
        fig["search_warm"] = run_search(args.model, args.threads, Path(tmp) / "warm", cache)
    fig["throughput"] = served_throughput(args)
    report(fig)
    stem = harness.write_results(args.name, fig)
    print(f"written: {stem}.json")


if __name__ == "__main__":
    main()
