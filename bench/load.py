"""Load: a 2,000-request evaluation through behavopt against a local llama-server with parallel slots (issue 22).

behavopt starts the server itself (`slots`), scores 2,000 distinct requests (the demo tasks' questions, each asked
ten ways) with the response cache off, and records: this process's resident memory at the start, after each quarter
and at the end (it must stay flat); every record written to records.jsonl (it must hold all 2,000, each with an
answer or a recorded error); and the throughput of each quarter (it must hold, not sag).

Writes bench/results/<date>-<name>.json and .md (name: load).

    .venv/bin/python bench/load.py [--model smollm2-135m] [--n 2000] [--parallel 4] [--max-tokens 16]
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import harness

from behavopt.eval import EvalSettings, Evaluator, InstructionPrompt
from behavopt.eval.evaluator import EvalRecord
from behavopt.lm.client import ModelPool
from behavopt.tasks import load_task
from behavopt.tasks.data import task_from_data

PHRASINGS = ["{q}", "Question: {q}", "Please answer: {q}", "{q} Think, then answer.", "Here is a puzzle. {q}",
             "{q} Reply briefly.", "Quick one: {q}", "{q} (one line)", "Solve: {q}", "{q} Be exact."]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def requests(n: int) -> list[dict[str, str]]:
    """n distinct rows: every demo question, in each phrasing, until there are n."""
    base = [e for name in ("object-counting", "arithmetic", "navigate") for e in load_task(f"demo:{name}").examples]
    rows = [{"input": p.format(q=e.input), "answer": e.target} for p in PHRASINGS for e in base]
    assert len(rows) >= n, f"only {len(rows)} distinct requests"
    return rows[:n]


def run(args: Any, out: Path) -> dict[str, Any]:
    task = task_from_data("Answer the question. End with 'Answer: X'.", requests(args.n), name="load")
    marks: list[dict[str, float]] = []
    start = time.perf_counter()
    quarter = args.n // 4

    def on_record(record: EvalRecord) -> None:
        done = len(seen) + 1
        seen.append(record)
        if done == 1 or done % quarter == 0:
            marks.append({"done": done, "seconds": round(time.perf_counter() - start, 2),
                          "rss_mib": round(rss_mib(), 1)})

    seen: list[EvalRecord] = []

    async def go():
        async with ModelPool(threads=args.threads, slots=args.parallel) as pool:
            lm = pool.lm(f"local:{args.model}", "target")
            evaluator = Evaluator(task, lm, EvalSettings(max_tokens=args.max_tokens))
            return await evaluator.evaluate(InstructionPrompt(task.instruction), task.examples, on_record=on_record)

    rss_before = rss_mib()
    result = asyncio.run(go())
    rows = [r.to_dict() for r in result.records]
    (out / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    written = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    rates = [round(quarter / (b["seconds"] - a["seconds"]), 2) for a, b in zip(marks[:-1], marks[1:]) if b["done"] > 1]
    return {"model": args.model, "slots": args.parallel, "n": args.n, "max_tokens": args.max_tokens,
            "rss_mib_before": round(rss_before, 1), "marks": marks, "quarter_rates_rps": rates,
            "records_written": len(written), "records_with_output_or_error": sum(
                1 for r in written if r["output"] is not None or r["error"]),
            "missing": result.summary.missing, "accuracy": result.summary.accuracy,
            "wall_s": round(time.perf_counter() - start, 1)}


def table(f: dict[str, Any]) -> str:
    rss = [m["rss_mib"] for m in f["marks"]]
    return "\n".join([
        f"{f['n']} requests, {f['model']} on llama-server with {f['slots']} slots (behavopt started it), "
        f"max_tokens {f['max_tokens']}, cache off: {f['wall_s']:.0f} s.",
        "",
        "| measure | value |", "|---|---|",
        f"| resident memory (MiB): before, first record, each quarter | {f['rss_mib_before']}, "
        + ", ".join(str(r) for r in rss) + " |",
        f"| requests/s per quarter | {', '.join(str(r) for r in f['quarter_rates_rps'])} |",
        f"| records written / with an output or a recorded error | {f['records_written']} / "
        f"{f['records_with_output_or_error']} |",
        f"| missing (no answer from the server) | {f['missing']} |",
    ])


def main() -> None:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, model="smollm2-135m", threads=2, n=2000, max_tokens=16, parallel=4, name="load")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = run(args, Path(tmp))
    markdown = table(figures)
    print(markdown)
    stem = harness.write_results(args.name, figures, markdown)
    print(f"written: {stem}.json")


if __name__ == "__main__":
    main()
