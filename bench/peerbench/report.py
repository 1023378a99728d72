"""The results table, and the rows of an earlier run that --resume keeps."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import harness


def fmt(x: Any) -> str:
    """An accuracy as the table shows it; "-" where the system gave none."""
    return "-" if x is None else f"{x:.3f}"


def markdown(rows: list[dict], meta: dict[str, Any]) -> str:
    """Per task and system: initial and best test accuracy, best dev, search calls against the budget, test calls,
    tokens, seconds and a note (failed, over budget)."""
    lines = [f"Target `{meta['target']}`, optimizer `{meta['optimizer']}`, preset `{meta['preset']}` "
             f"(train {meta['sizes'][0]}, dev {meta['sizes'][1]}, test {meta['sizes'][2]}, seed {meta['seed']}), "
             f"budget {meta['max_calls']} search LM calls per system. Calls and tokens counted at the HTTP proxy "
             "(search + final test of initial and best); accuracy by behavopt's metric on the same test split.", "",
             "| task | system | initial test | best test | best dev | search calls (budget) | test calls | "
             "tokens | seconds | note |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        note = ""
        if r.get("error"):
            note = "failed: " + re.sub(r"\s+", " ", r["error"])[:120].replace("|", "/")
        elif not r["within_budget"]:
            note = "over budget"
        budget = f"{r['search_calls']} ({'<=' if r['within_budget'] else '>'} {r['budget']})"
        lines.append(f"| {r['task']} | {r['system']} | {fmt(r['initial_test'])} | {fmt(r['best_test'])} | "
                     f"{fmt(r['best_dev'])} | {budget} | {r['test_calls']} | {r['tokens']} | {r['wall_s']:.0f} | "
                     f"{note} |")
    return "\n".join(lines) + "\n"


# The settings an earlier run must share for its rows to be kept: each changes what a row's numbers mean.
SAME_SETTINGS = ("target", "optimizer", "preset", "seed", "max_calls", "fanout_n")


def finished_rows(path: Path, meta: dict[str, Any]) -> list[dict]:
    """The rows without error of an earlier run written to `path`, for --resume; ValueError where that run used other
    settings (its rows would not compare with the new ones)."""
    if not path.exists():
        return []
    earlier = harness.read_results(path)
    changed = [k for k in SAME_SETTINGS if earlier.get(k) != meta[k]]
    if changed:
        k = changed[0]
        raise ValueError(f"--resume: {path} was run with {k} {earlier.get(k)!r}, not {meta[k]!r}; "
                         "give the same settings or another --name")
    return [r for r in earlier.get("rows", []) if not r.get("error")]
