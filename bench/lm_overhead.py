"""LM-layer overhead: 50 fixed requests through raw llama-cpp-python vs behavopt's LM layer, in-process and via
`behavopt serve`, plus a warm-cache rerun. Prints figures and ratios; writes bench/results/<date>-lm_overhead.json
(<date>-<name>.json with --name).

    .venv/bin/python bench/lm_overhead.py [--model smollm2-135m] [--n 50] [--max-tokens 32] [--threads 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import harness
import httpx

from behavopt.lm import local_models
from behavopt.lm.cache import ResponseCache
from behavopt.lm.client import ModelPool
from behavopt.lm.types import ChatRequest, Message

ITEMS = ["apple", "violin", "carrot", "dog", "chair", "piano", "banana", "cat", "table", "drum"]


def fixed_requests(n: int) -> list[list[dict[str, str]]]:
    out = []
    for i in range(n):
        things = ", ".join(ITEMS[(i + k) % len(ITEMS)] for k in range(2 + i % 5))
        out.append([{"role": "user", "content": f"Request {i}. I have {things}. How many items do I have? "
                                                 "Reply with 'Answer: <number>'."}])
    return out


def time_raw_inprocess(path: Path, requests, max_tokens: int, threads: int) -> tuple[float, list[str]]:
    from llama_cpp import Llama

    llama = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False)
    llama.create_chat_completion(messages=requests[0], max_tokens=4, temperature=0.0)  # warm-up
    texts = []
    start = time.perf_counter()
    for msgs in requests:
        out = llama.create_chat_completion(messages=msgs, max_tokens=max_tokens, temperature=0.0, seed=0)
        texts.append(out["choices"][0]["message"]["content"])
    return time.perf_counter() - start, texts


async def time_behavopt(spec: str, requests, max_tokens: int, threads: int, *, base_url: str | None = None,
                        cache: ResponseCache | None = None, warm: bool = True) -> tuple[float, list[str], dict]:
    async with ModelPool(cache=cache, threads=threads, base_url=base_url) as pool:
        lm = pool.lm(spec, "target")
        if warm:  # load the model outside the timed part, as the raw runs do
            await lm.complete(ChatRequest((Message("user", "warm-up"),), max_tokens=4, seed=99))
        before = pool.usage.target.to_dict()
        reqs = [ChatRequest.of(m, max_tokens=max_tokens, temperature=0.0, seed=0) for m in requests]
        start = time.perf_counter()
        outs = await asyncio.gather(*(lm.complete(r) for r in reqs))
        elapsed = time.perf_counter() - start
        after = pool.usage.target.to_dict()
        return elapsed, [o.text for o in outs], {k: after[k] - before[k] for k in after}


def time_raw_http(base_url: str, name: str, requests, max_tokens: int) -> tuple[float, list[str]]:
    with httpx.Client(base_url=base_url, timeout=600) as client:
        client.post("/chat/completions", json={"model": name, "messages": requests[0], "max_tokens": 4})
        texts = []
        start = time.perf_counter()
        for msgs in requests:
            r = client.post("/chat/completions", json={"model": name, "messages": msgs, "max_tokens": max_tokens,
                                                       "temperature": 0.0, "seed": 0})
            texts.append(r.json()["choices"][0]["message"]["content"])
        return time.perf_counter() - start, texts


def run_part(part: str, args: argparse.Namespace, base_url: str | None = None, cache_file: str | None = None) -> dict:
    """Measure one part in a fresh process: llama.cpp's thread team belongs to the thread that first calls it, so
    parts sharing a process would slow each other down and blur the comparison."""
    cmd = [sys.executable, __file__, "--part", part, "--model", args.model, "--n", str(args.n),
           "--max-tokens", str(args.max_tokens), "--threads", str(args.threads)]
    cmd += ["--base-url", base_url] if base_url else []
    cmd += ["--cache-file", cache_file] if cache_file else []
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(part: str, args: argparse.Namespace) -> dict:
    requests = fixed_requests(args.n)
    path = local_models.pull(args.model)
    if part == "raw":
        seconds, texts = time_raw_inprocess(path, requests, args.max_tokens, args.threads)
        return {"s": seconds, "texts": texts}
    if part == "raw_http":
        seconds, texts = time_raw_http(args.base_url, args.model, requests, args.max_tokens)
        return {"s": seconds, "texts": texts}
    spec = f"openai:{args.model}" if part == "behavopt_http" else f"local:{args.model}"
    cache = ResponseCache(Path(args.cache_file)) if args.cache_file else None
    seconds, texts, usage = asyncio.run(time_behavopt(spec, requests, args.max_tokens, args.threads,
                                                      base_url=args.base_url, cache=cache,
                                                      warm=part != "behavopt_warm"))
    return {"s": seconds, "texts": texts, "usage": usage}


def parse_args() -> argparse.Namespace:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, model="smollm2-135m", n=50, max_tokens=32, threads=2, name="lm_overhead")
    ap.add_argument("--part", help=argparse.SUPPRESS)
    ap.add_argument("--base-url", help=argparse.SUPPRESS)
    ap.add_argument("--cache-file", help=argparse.SUPPRESS)
    return ap.parse_args()


def same(a: dict, b: dict) -> int:
    """How many outputs two measurements of the same requests share."""
    return sum(x == y for x, y in zip(a["texts"], b["texts"]))


def inprocess(args: argparse.Namespace) -> dict:
    raw, ours = run_part("raw", args), run_part("behavopt", args)
    return {"raw_s": round(raw["s"], 3), "behavopt_s": round(ours["s"], 3),
            "overhead_ratio": round(ours["s"] / raw["s"], 4), "same_outputs": same(raw, ours)}


def served(args: argparse.Namespace) -> dict:
    server, base = harness.start_server(args.model, args.threads)
    try:
        http, ours = run_part("raw_http", args, base_url=base), run_part("behavopt_http", args, base_url=base)
    finally:
        server.stop()
    return {"raw_http_s": round(http["s"], 3), "behavopt_s": round(ours["s"], 3),
            "overhead_ratio": round(ours["s"] / http["s"], 4), "same_outputs": same(http, ours)}


def cached(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cache_file = str(Path(tmp) / "c.sqlite")
        cold = run_part("behavopt", args, cache_file=cache_file)
        warm = run_part("behavopt_warm", args, cache_file=cache_file)  # a new process: the cache persisted
    return {"cold_s": round(cold["s"], 3), "cold_calls": cold["usage"]["calls"], "warm_s": round(warm["s"], 4),
            "warm_calls": warm["usage"]["calls"], "warm_hits": warm["usage"]["cache_hits"],
            "speedup": round(cold["s"] / max(warm["s"], 1e-9), 1)}


def report(fig: dict, args: argparse.Namespace) -> None:
    print(f"{args.n} requests, {args.model}, max_tokens={args.max_tokens}, {args.threads} threads")
    i, s, c = fig["inprocess"], fig["served"], fig["cache"]
    print(f"in-process: raw llama-cpp-python {i['raw_s']:.2f}s  behavopt {i['behavopt_s']:.2f}s  "
          f"ratio {i['overhead_ratio']:.3f}  identical outputs {i['same_outputs']}/{args.n}")
    print(f"served:     raw HTTP {s['raw_http_s']:.2f}s  behavopt openai: {s['behavopt_s']:.2f}s  "
          f"ratio {s['overhead_ratio']:.3f}  identical outputs {s['same_outputs']}/{args.n}")
    print(f"cache:      cold {c['cold_s']:.2f}s ({c['cold_calls']} calls)  warm rerun {c['warm_s'] * 1000:.1f} ms "
          f"({c['warm_calls']} calls, {c['warm_hits']} hits)  speedup x{c['speedup']}")


def main() -> None:
    args = parse_args()
    if args.part:
        print(json.dumps(measure(args.part, args)))
        return
    local_models.pull(args.model)
    fig: dict = {"model": args.model, "n": args.n, "max_tokens": args.max_tokens, "threads": args.threads}
    fig["inprocess"] = inprocess(args)
    fig["served"] = served(args)
    fig["cache"] = cached(args)
    report(fig, args)
    stem = harness.write_results(args.name, fig)
    print(f"wrote {stem}.json")


if __name__ == "__main__":
    main()
