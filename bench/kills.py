"""Crash safety at length: a real optimization (SmolLM2, apo on demo:navigate) killed with SIGKILL at 20 random
moments and resumed each time, against the same run left alone (issue 22).

After each kill: every JSON file of the run directory must parse (a last events line cut by the kill is allowed: the
resume drops it) and the SQLite response cache must pass its integrity check. At the end the result (best prompt,
every score, every step's beam) must equal the uninterrupted run's.

Writes bench/results/<date>-<name>.json and .md (name: kills).

    .venv/bin/python bench/kills.py [--n 20] [--seed 0]
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

MODEL = "local:smollm2-135m?threads=2"
ARGS = ["optimize", "--task", "demo:navigate", "--method", "apo", "--target", MODEL, "--optimizer", MODEL,
        "--preset", "quick", "--steps", "3", "--initial", "3", "--beam", "2", "--expand", "2", "--errors", "2",
        "--train-size", "10", "--dev-size", "6", "--test-size", "6", "--train-batch", "4", "--target-max-tokens", "48",
        "--optimizer-max-tokens", "96"]
KEPT = ("best_candidate", "best_prompt", "initial_dev_score", "best_dev_score", "initial_test_score",
        "best_test_score", "steps")


def behavopt(*args: str, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "BEHAVOPT_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "behavopt.cli.main", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, text=True)


def damage(out: Path, cache: Path) -> list[str]:
    """What a kill left broken: JSON files that do not parse, and the cache's integrity check."""
    broken = []
    for path in out.rglob("*.json"):
        try:
            json.loads(path.read_text())
        except ValueError:
            broken.append(str(path))
    for path in out.rglob("*.jsonl"):
        lines = path.read_text().splitlines(keepends=True)
        for i, line in enumerate(lines):
            if path.name == "events.jsonl" and i == len(lines) - 1 and not line.endswith("\n"):
                continue
            try:
                json.loads(line)
            except ValueError:
                broken.append(f"{path}:{i + 1}")
    if cache.exists() and sqlite3.connect(cache).execute("PRAGMA integrity_check").fetchone()[0] != "ok":
        broken.append(str(cache))
    return broken


def one_cycle(root: Path, index: int, moments: random.Random, alone_s: float, budget: int) -> dict[str, Any]:
    """One run in a fresh directory and cache, killed at random moments (at most `budget` times) and resumed until
    it finishes; what the kills broke, and the result."""
    out, cache = root / f"killed-{index}", root / f"killed-{index}.sqlite"
    kills: list[float] = []
    broken: list[str] = []
    while True:
        resume = ["--resume"] if (out / "config.json").is_file() else []
        proc = behavopt(*ARGS, "--out", str(out), *resume, "--json", cache=cache)
        wait = moments.uniform(0.5, max(1.0, 0.6 * alone_s))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None or len(kills) >= budget:
            result = json.loads(proc.communicate()[0])
            return {"kills": kills, "broken": broken, "result": result}
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills.append(round(wait, 2))
        broken += damage(out, cache)


def main() -> None:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, n=20, seed=0, name="kills")
    args = ap.parse_args()
    moments = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        whole = json.loads(behavopt(*ARGS, "--out", str(root / "alone"), "--json",
                                    cache=root / "alone.sqlite").communicate()[0])
        alone_s = time.perf_counter() - start
        cycles = []
        while sum(len(c["kills"]) for c in cycles) < args.n:
            left = args.n - sum(len(c["kills"]) for c in cycles)
            cycle = one_cycle(root, len(cycles), moments, alone_s, left)
            result = cycle.pop("result")
            cycle["same"] = all(result[k] == whole[k] for k in KEPT)
            cycles.append(cycle)
    kills = sum(len(c["kills"]) for c in cycles)
    broken = [b for c in cycles for b in c["broken"]]
    same = sum(c["same"] for c in cycles)
    figures = {"kills": kills, "runs": len(cycles), "runs_equal_to_uninterrupted": same, "broken_files": broken,
               "kill_moments_s": [c["kills"] for c in cycles], "uninterrupted_s": round(alone_s, 1)}
    markdown = (f"{kills} SIGKILLs at random moments over {len(cycles)} apo runs (SmolLM2, demo:navigate, 3 steps; "
                f"one run alone takes {alone_s:.0f} s), each kill followed by --resume until the run finished. Files "
                f"a kill left broken: {len(broken)}. Runs whose result (best prompt, every score, every beam) equals "
                f"the uninterrupted run's: {same} of {len(cycles)}.")
    print(markdown)
    stem = harness.write_results(args.name, figures, markdown)
    print(f"written: {stem}.json")


if __name__ == "__main__":
    main()
