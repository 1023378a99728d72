"""What one ABO run costs in target and optimizer time, with each speed lever off and on (issue 20).

One row per configuration, each a real optimization without the response cache: ABO, quick preset, seed 0, on
bbh:object_counting, Qwen-1.5B as target and optimizer, models loaded before the clock starts. Per row: wall time,
calls, the share of prompt tokens llama.cpp reused instead of computing, and the split of LM time into prompt
processing, generation and the rest (sampling, Python, waiting), as llama.cpp counted them; the best prompt, its dev
and test scores, and every step's beam, so that rows can be checked for the same selections.

Configurations (`--rows`):
  before     one llama.cpp context for both roles, no saved prefix states, every child scored on all of dev
  contexts   a context per role, with recent prefix states kept (1 GiB each)
  after      contexts, and racing of children on dev (stop once a child cannot pass the beam's last member)
  slots4     racing, with the model served by llama.cpp's llama-server decoding 4 requests together (`--slots 4`;
             `make llama-server` first); not exact: batched arithmetic depends on the batch

Rows are resumable: each finished row is written to bench/results/<name>/<row>.json (name: engine-speed) and skipped
when there; the table (<date>-<name>.md) is made from the rows present.

`--determinism N` measures what speed costs in exactness, on the first N candidates of the 'after' run, each on all
of dev: in-process, asked as the engine asks (one candidate's calls back to back, reusing the prefix) against from
scratch (the context emptied before every call), in determinism.json; through llama-server with 4 slots, two
identical passes with every request in flight, in determinism-slots.json. Each counts the outputs, answers and
scores that differ.

    .venv/bin/python bench/engine_speed.py [--rows before,after] [--task bbh:object_counting] [--determinism 3]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import shutil
import time
from pathlib import Path
from typing import Any

import harness

from behavopt.core.files import atomic_write_json
from behavopt.lm.client import ModelPool
from behavopt.lm.types import ChatRequest, Message, Usage
from behavopt.optimizers.result import OptimizationResult
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.run import optimize_task

ROWS: dict[str, dict[str, Any]] = {
    "before": {"spec": "?context=shared&prefix_cache=0", "racing": False},
    "contexts": {"spec": "", "racing": False},
    "after": {"spec": "", "racing": True},
    "slots4": {"spec": "?slots=4", "racing": True},
}


def warm(spec: str, threads: int) -> None:
    """Load the model into both roles' contexts before the clock starts, as a long-running process would have it."""
    async def go() -> None:
        async with ModelPool(threads=threads) as pool:
            for role in ("target", "optimizer"):
                hello = ChatRequest((Message("user", "hi"),), max_tokens=2)
                await pool.lm(spec, role).complete(hello)  # type: ignore[arg-type]

    asyncio.run(go())


def role_figures(u: Usage) -> dict[str, Any]:
    reuse = u.prefix_reuse()
    return {"calls": u.calls, "prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
            "prompt_tokens_processed": u.prompt_tokens_processed, "timed_calls": u.timed_calls,
            "prefix_reuse": round(reuse, 4) if reuse is not None else None, "lm_s": round(u.seconds, 1),
            "prompt_s": round(u.prompt_s, 1), "generate_s": round(u.generate_s, 1),
            "other_s": round(u.seconds - u.prompt_s - u.generate_s, 1)}


def row_figures(result: OptimizationResult, out: Path, wall_s: float) -> dict[str, Any]:
    state = RunDir(out).load_checkpoint()
    assert state is not None, f"{out} has no checkpoint"
    best = result.best_prompt.messages("{input}")
    return {
        "wall_s": round(wall_s, 1),
        "target": role_figures(result.usage.target),
        "optimizer": role_figures(result.usage.optimizer),
        "best": {"id": result.best_candidate, "dev": result.best_dev_score, "test": result.best_test_score,
                 "sha256": hashlib.sha256(repr(best).encode()).hexdigest()[:16]},
        "initial_test": result.initial_test_score,
        "beams": [[e.step, list(e.beam)] for e in state.step_log],
        "outraced": len(state.early_stopped),
    }


def run_row(name: str, args: argparse.Namespace) -> dict[str, Any]:
    row = ROWS[name]
    spec = f"local:{args.model}{row['spec']}"
    out = harness.RUNS / f"{args.name}-{name}"
    shutil.rmtree(out, ignore_errors=True)
    warm(spec, args.threads)
    start = time.perf_counter()
    result = optimize_task(args.task, "abo", spec, spec, out=out, cache=False, preset="quick", seed=0,
                           threads=args.threads, data_dir=args.data_dir, racing=row["racing"])
    return {"row": name, **row, "model_spec": spec, **row_figures(result, out, time.perf_counter() - start)}


def candidate_requests(args: argparse.Namespace, n_candidates: int) -> tuple[Any, list[tuple[ChatRequest, Any]]]:
    """The task and the dev requests of the 'after' run's first candidates, as the engine sends them."""
    from behavopt.tasks import load_task

    rundir = RunDir(harness.RUNS / f"{args.name}-after")
    state = rundir.load_checkpoint()
    assert state is not None, "run the 'after' row first"
    settings = rundir.load_config().settings
    task = load_task(args.task, data_dir=args.data_dir)
    dev = harness.splits_of(task, settings).dev
    return task, [(ChatRequest(tuple(c.render(e)), max_tokens=settings.models.target_max_tokens, seed=0), e)
                  for c in list(state.candidates.values())[:n_candidates] for e in dev]


def changed(task: Any, pairs: list[tuple[ChatRequest, Any]], first: list[str], second: list[str]) -> dict[str, int]:
    """How many of the same requests got another output, answer or score the second time."""
    graded = [(task.grade(a, e), task.grade(b, e)) for (_, e), a, b in zip(pairs, first, second)]
    return {"requests": len(pairs), "outputs_changed": sum(a != b for a, b in zip(first, second)),
            "answers_changed": sum(x.answer != y.answer for x, y in graded),
            "scores_changed": sum(x.score != y.score for x, y in graded)}


def determinism(args: argparse.Namespace, n_candidates: int) -> dict[str, Any]:
    """In-process outputs with prefix reuse (one candidate's calls back to back, as the engine sends them) against
    from scratch (the context emptied before every call), on the same requests."""
    from behavopt.lm.spec import open_backend

    task, pairs = candidate_requests(args, n_candidates)
    spec = f"local:{args.model}?threads={args.threads}"
    reuse = open_backend(spec, context="determinism-reuse")
    scratch = open_backend(f"{spec}&prefix_cache=0", context="determinism-scratch")  # nothing to restore from

    async def go() -> tuple[list[str], list[str]]:
        kept, fresh = [], []
        for request, _ in pairs:
            kept.append((await reuse.complete(request)).text)
            await scratch.slot.call(lambda: scratch.slot.llama().reset())
            fresh.append((await scratch.complete(request)).text)
        return kept, fresh

    kept, fresh = asyncio.run(go())
    return {"compared": "in-process: prefix reuse against from scratch", "candidates": n_candidates,
            **changed(task, pairs, kept, fresh)}


def slots_determinism(args: argparse.Namespace, n_candidates: int, slots: int = 4) -> dict[str, Any]:
    """The same requests twice through a llama-server decoding `slots` together, all in flight at once: what
    batching changes between identical runs."""
    task, pairs = candidate_requests(args, n_candidates)

    async def one_pass() -> list[str]:
        async with ModelPool(threads=args.threads, slots=slots) as pool:
            lm = pool.lm(f"local:{args.model}", "target")
            return [c.text for c in await asyncio.gather(*(lm.complete(r) for r, _ in pairs))]

    first, second = asyncio.run(one_pass()), asyncio.run(one_pass())
    return {"compared": f"llama-server, {slots} slots: two identical passes", "candidates": n_candidates,
            **changed(task, pairs, first, second)}


def levers_replayed(args: argparse.Namespace, minibatches: tuple[int, ...] = (5, 8, 12)) -> dict[str, Any]:
    """Racing and `--minibatch k`, replayed on the 'before' run's full dev records: the dev calls each would have
    made, and the steps whose beam would have changed (a child dropped that full scoring put in the beam)."""
    from behavopt.eval.stats import mean_score
    from behavopt.optimizers.candidate import ranked
    from behavopt.tasks import load_task

    rundir = RunDir(harness.RUNS / f"{args.name}-before")
    state, settings = rundir.load_checkpoint(), rundir.load_config().settings
    assert state is not None, "run the 'before' row first"
    dev = harness.splits_of(load_task(args.task, data_dir=args.data_dir), settings).dev
    records = {cid: {r.id: r for split, r in rundir.load_records(cid) if split == "dev"} for cid in state.candidates}
    scores = {cid: {eid: r.score for eid, r in recs.items()} for cid, recs in records.items()}
    beam_size, seed = settings.search.beam, settings.data.seed
    full_calls, raced_calls, mini = 0, 0, {k: {"calls": 0, "changed_steps": []} for k in minibatches}
    full_s, raced_s = 0.0, 0.0  # the target's seconds on those calls, from the records
    for before, entry in zip(state.step_log, state.step_log[1:]):
        parents, children = before.beam, entry.created
        pool_scores = {c: mean_score(list(scores[c].values())) for c in parents + children}
        full_calls += len(children) * len(dev)
        full_s += sum(records[c][e.id].latency_s for c in children for e in dev)
        known = {p: pool_scores[p] for p in parents}
        for child in children:  # racing: in order, each example until the child cannot pass the beam's last member
            seen: list[float] = []
            for e in dev:
                seen.append(scores[child][e.id])
                bar = sorted(known.values(), reverse=True)[beam_size - 1] if len(known) >= beam_size else None
                if bar is not None and len(seen) < len(dev) and \
                        mean_score(seen + [1.0] * (len(dev) - len(seen))) <= bar:
                    break
            raced_calls += len(seen)
            raced_s += sum(records[child][e.id].latency_s for e in dev[:len(seen)])
            if len(seen) == len(dev):
                known[child] = pool_scores[child]
        for k, figures in mini.items():
            batch = random.Random(f"{seed}:minibatch:{entry.step}").sample(dev, k)
            on_batch = {c: mean_score([scores[c][e.id] for e in batch]) for c in parents + children}
            floor = min(on_batch[p] for p in parents)
            kept = [c for c in children if on_batch[c] >= floor]
            figures["calls"] += len(children) * k + len(kept) * (len(dev) - k)
            if ranked(parents + kept, pool_scores)[:beam_size] != entry.beam:
                figures["changed_steps"].append(entry.step)
    return {"full_dev_calls": full_calls, "racing_dev_calls": raced_calls, "full_dev_s": round(full_s, 1),
            "racing_dev_s": round(raced_s, 1),
            "minibatch": {str(k): v for k, v in mini.items()}}


def table(rows: dict[str, dict[str, Any]]) -> str:
    lines = ["| row | wall s | target calls | target prefix reuse | target prompt / generate / other s | "
             "optimizer calls | optimizer prefix reuse | best | dev | test | speed-up vs before |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    base = rows.get("before", {}).get("wall_s")
    for name, r in rows.items():
        t, o = r["target"], r["optimizer"]
        ratio = f"{base / r['wall_s']:.2f}x" if base else "-"
        lines.append(f"| {name} | {r['wall_s']:.0f} | {t['calls']} | {t['prefix_reuse']:.1%} | "
                     f"{t['prompt_s']:.0f} / {t['generate_s']:.0f} / {t['other_s']:.0f} | {o['calls']} | "
                     f"{o['prefix_reuse']:.1%} | {r['best']['id']} | {r['best']['dev']:.3f} | "
                     f"{r['best']['test']:.3f} | {ratio} |")
    if any(r["spec"].startswith("?slots") for r in rows.values()):
        lines.append("")
        lines.append("With slots the target's seconds are summed over requests decoded together, so they exceed the "
                     "wall time.")
    if base:
        same = [n for n, r in rows.items() if r["beams"] == rows["before"]["beams"]]
        lines.append("")
        lines.append(f"Rows whose every step's beam equals the 'before' row's: {', '.join(same)}.")
    return "\n".join(lines)


def main() -> None:
    ap = harness.parser(__doc__)
    harness.add_shared(ap, model="qwen2.5-coder-1.5b", threads=2, name="engine-speed", data_dir=None)
    ap.add_argument("--task", default="bbh:object_counting")
    ap.add_argument("--rows", default="before,contexts,after", help="comma-separated, from: " + ", ".join(ROWS))
    ap.add_argument("--determinism", type=int, default=0, metavar="N",
                    help="also compare prefix reuse with from-scratch outputs on the first N candidates' dev calls")
    args = ap.parse_args()
    row_dir = harness.RESULTS / args.name
    row_dir.mkdir(parents=True, exist_ok=True)
    for name in args.rows.split(","):
        path = row_dir / f"{name}.json"
        if path.is_file():
            print(f"{name}: done before ({path}), skipped")
            continue
        figures = run_row(name, args)
        atomic_write_json(path, {"meta": harness.run_meta(), "results": figures})
        print(f"{name}: {figures['wall_s']:.0f} s, best {figures['best']['id']} test {figures['best']['test']}")
    for file, measure in (("determinism.json", determinism), ("determinism-slots.json", slots_determinism)):
        if args.determinism and not (row_dir / file).is_file():
            found = measure(args, args.determinism)
            atomic_write_json(row_dir / file, {"meta": harness.run_meta(), "results": found})
            print(f"{found['compared']}: {found['outputs_changed']} outputs and {found['answers_changed']} answers "
                  f"of {found['requests']} changed")
    rows = {n: harness.read_results(row_dir / f"{n}.json") for n in ROWS if (row_dir / f"{n}.json").is_file()}
    markdown = table(rows)
    if "before" in rows:
        replay = levers_replayed(args)
        rows["before"]["levers_replayed"] = replay
        markdown += (f"\n\nReplayed on the 'before' run's full dev records: its children took "
                     f"{replay['full_dev_calls']} dev calls ({replay['full_dev_s']:.0f} s); racing would take "
                     f"{replay['racing_dev_calls']} ({replay['racing_dev_s']:.0f} s) with every beam the same; "
                     + "; ".join(
                         f"--minibatch {k}: {m['calls']} calls, beam changed at steps {m['changed_steps'] or 'none'}"
                         for k, m in replay["minibatch"].items()) + ".")
    for file in ("determinism.json", "determinism-slots.json"):
        if (row_dir / file).is_file():
            d = harness.read_results(row_dir / file)
            d.setdefault("compared", "in-process: prefix reuse against from scratch")  # the first file's wording
            n_candidates = len(d["candidates"]) if isinstance(d["candidates"], list) else d["candidates"]
            markdown += (f"\n\n{d['compared']}, the same {d['requests']} requests ({n_candidates} candidates x "
                         f"dev): {d['outputs_changed']} outputs, {d['answers_changed']} answers and "
                         f"{d['scores_changed']} scores changed.")
    print(markdown)
    harness.write_results(args.name, rows, markdown)


if __name__ == "__main__":
    main()
