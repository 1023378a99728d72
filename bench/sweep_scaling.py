"""How sweeps and evaluation scale with workers and endpoints on this machine (issue 24), with SmolLM2:

  sweep     a 4-run sweep (demo:navigate and demo:object-counting x apo and ape, tiny settings, one llama.cpp thread
            per run, no cache) with 1 worker, then 2 workers: wall time, and whether both give the same results
  eval      one evaluation (demo:arithmetic, 64 examples) against one llama-server, then two, each started by
            behavopt (1 thread, 2 slots), 4 requests in flight in all, no cache: wall time

Writes bench/results/<date>-sweep-scaling.json and .md.

    .venv/bin/python bench/sweep_scaling.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

from behavopt.lm.serve_process import ServeProcess

SWEEP = """tasks: [demo:navigate, demo:object-counting]
methods: [apo, ape]
seeds: [0]
target: local:smollm2-135m?threads=1
optimizer: local:smollm2-135m?threads=1
settings: {preset: quick, steps: 2, initial: 2, beam: 2, expand: 2, errors: 2, train_size: 8, dev_size: 8,
           test_size: 8, train_batch: 4, target_max_tokens: 64, optimizer_max_tokens: 128}
"""


def behavopt(*args: str) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "behavopt.cli.main", *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"behavopt {' '.join(args)} failed: {proc.stderr[-2000:]}")
    return time.perf_counter() - start, proc


def sweep_rows(work: Path) -> dict[str, Any]:
    (work / "sweep.yaml").write_text(SWEEP)
    rows: dict[str, Any] = {}
    for workers in (1, 2):
        out = work / f"sweep-{workers}"
        seconds, _ = behavopt("sweep", str(work / "sweep.yaml"), "--out", str(out), "--workers", str(workers),
                              "--threads", "1", "--no-cache")
        results = {p.parent.name: json.loads(p.read_text()) for p in (out / "runs").glob("*/result.json")}
        rows[f"{workers} worker(s)"] = {"wall_s": round(seconds, 1), "runs": len(results),
                                        "best": {k: (r["best_candidate"], r["best_test_score"])
                                                 for k, r in sorted(results.items())}}
    one, two = rows["1 worker(s)"], rows["2 worker(s)"]
    rows["speed-up"] = round(one["wall_s"] / two["wall_s"], 2)
    rows["same results"] = one["best"] == two["best"]
    return rows


def eval_rows(work: Path, n: int = 64) -> dict[str, Any]:
    servers = [ServeProcess(["local:smollm2-135m", "--threads", "1", "--llama-server", str(harness.BENCH.parent /
                                                                                           ".build" / "llama-server"),
                             "--parallel", "2"], work / f"serve-{k}.log") for k in range(2)]
    rows: dict[str, Any] = {}
    with servers[0] as first, servers[1] as second:
        for label, urls in (("1 endpoint", [first]), ("2 endpoints", [first, second])):
            seconds, proc = behavopt("eval", "--task", "demo:arithmetic", "--model",
                                     f"openai:smollm2-135m?concurrency=4&base_url={','.join(urls)}",
                                     "--limit", str(n), "--max-tokens", "48", "--no-cache", "--json")
            summary = json.loads(proc.stdout)
            rows[label] = {"wall_s": round(seconds, 1), "n": summary["n"], "accuracy": summary["accuracy"]}
    rows["speed-up"] = round(rows["1 endpoint"]["wall_s"] / rows["2 endpoints"]["wall_s"], 2)
    return rows


def main() -> None:
    ap = harness.parser(__doc__)
    ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sweep-scaling-") as tmp:
        work = Path(tmp)
        figures = {"sweep": sweep_rows(work), "eval": eval_rows(work)}
    s, e = figures["sweep"], figures["eval"]
    markdown = "\n".join([
        "| what | one | two | speed-up |", "|---|---|---|---|",
        f"| 4-run sweep, workers | {s['1 worker(s)']['wall_s']:.0f} s | {s['2 worker(s)']['wall_s']:.0f} s | "
        f"{s['speed-up']:.2f}x |",
        f"| eval of {e['1 endpoint']['n']} examples, llama-server endpoints | {e['1 endpoint']['wall_s']:.0f} s | "
        f"{e['2 endpoints']['wall_s']:.0f} s | {e['speed-up']:.2f}x |",
        "", f"The 1- and 2-worker sweeps gave the same best prompt and test score in every run: {s['same results']}."])
    print(markdown)
    harness.write_results("sweep-scaling", figures, markdown)


if __name__ == "__main__":
    main()
