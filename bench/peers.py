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
import datetime as dt
import json
import logging
import os
import re
import shutil
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import httpx

from behavopt.lm.serve_process import ServeProcess, answers_models
from behavopt.optimizers.settings import RunSettings
from behavopt.optimizers.settings import preset as settings_preset
from behavopt.tasks import load_task
from behavopt.tasks.types import Example, Splits, Task

# LiteLLM (under DSPy and GEPA) would fetch its model price list from GitHub at import: use the bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

RESULTS = Path(__file__).parent / "results"
BEHAVOPT_SYSTEMS = ("apo", "opro", "abo")
PEER_SYSTEMS = ("miprov2", "copro", "gepa")
DEFAULT_SYSTEMS = BEHAVOPT_SYSTEMS + PEER_SYSTEMS
ALL_SYSTEMS = DEFAULT_SYSTEMS + ("miprov2-fewshot",)
COPRO_DEPTH = 3
WORKERS = 4  # DSPy threads and GEPA LiteLLM workers
NO_LIMIT = 10**9  # DSPy max_errors: a parse failure scores 0 instead of ending the run


# ---- counting proxy ----------------------------------------------------------------------------------------------

@dataclass
class Count:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: int = 0
    seconds: float = 0.0

    def add(self, other: "Count") -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.errors += other.errors
        self.seconds += other.seconds

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens": self.prompt_tokens + self.completion_tokens,
                "errors": self.errors, "seconds": round(self.seconds, 3)}


_PATH = re.compile(r"^/s/([^/]+)/([^/]+)/(target|optimizer)(/.*)$")


def _usage_of(body: bytes) -> tuple[int, int]:
    """prompt/completion tokens of a chat response (JSON, or the last SSE chunk that carries usage)."""
    try:
        usage = json.loads(body).get("usage") or {}
    except (ValueError, AttributeError):
        usage = {}
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:") and '"usage"' in line:
                try:
                    usage = json.loads(line[5:]).get("usage") or usage
                except ValueError:
                    pass
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


class CountingProxy:
    """An OpenAI-compatible pass-through that counts LM calls and tokens per (system, phase, role).

    `upstreams` maps a role ("target", "optimizer") to a server's base URL (with or without /v1). Clients use
    `base_url(system, phase, role)`; the path tags every request, so concurrent systems never mix counts.
    """

    def __init__(self, upstreams: dict[str, str], *, fanout_n: bool = True, timeout_s: float = 1800.0):
        self.upstreams = {role: re.sub(r"/v1/?$", "", url.rstrip("/")) for role, url in upstreams.items()}
        self.fanout_n = fanout_n
        self._client = httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=64))
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], Count] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle
    def start(self) -> "CountingProxy":
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                proxy._handle(self, "GET")

            def do_POST(self) -> None:
                proxy._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._client.close()

    def __enter__(self) -> "CountingProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and counts
    def base_url(self, system: str, phase: str, role: str) -> str:
        return f"{self.url}/s/{system}/{phase}/{role}/v1"

    def counts(self, system: str, phase: str | None = None, role: str | None = None) -> Count:
        total = Count()
        with self._lock:
            for (s, p, r), c in self._counts.items():
                if s == system and phase in (None, p) and role in (None, r):
                    total.add(c)
        return total

    def breakdown(self, system: str) -> dict[str, dict[str, Any]]:
        """Counts of one system per "phase/role"."""
        with self._lock:
            return {f"{p}/{r}": c.to_dict() for (s, p, r), c in sorted(self._counts.items()) if s == system}

    def _record(self, key: tuple[str, str, str], count: Count) -> None:
        with self._lock:
            self._counts.setdefault(key, Count()).add(count)

    # -- forwarding
    def _upstream(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> httpx.Response:
        return self._client.request(method, url, content=body, headers=headers)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        m = _PATH.match(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if not m or m.group(3) not in self.upstreams:
            return self._reply(h, 404, json.dumps({"error": {"message": f"unknown proxy path {h.path}"}}).encode())
        system, phase, role, rest = m.groups()
        url = self.upstreams[role] + rest
        headers = {k: v for k, v in h.headers.items() if k.lower() in ("content-type", "authorization", "accept")}
        is_lm_call = method == "POST" and rest.rstrip("/").endswith("completions")
        if not is_lm_call:
            try:
                resp = self._upstream(method, url, body or None, headers)
            except httpx.HTTPError as err:
                return self._reply(h, 502, json.dumps({"error": {"message": f"upstream: {err}"}}).encode())
            return self._reply(h, resp.status_code, resp.content, resp.headers.get("content-type"))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        n = int(payload.get("n") or 1) if isinstance(payload, dict) else 1
        if n > 1 and self.fanout_n and not payload.get("stream"):
            status, content, ctype = self._fan_out((system, phase, role), url, payload, n, headers)
        else:
            status, content, ctype = self._one((system, phase, role), url, body, headers)
        self._reply(h, status, content, ctype)

    def _one(self, key: tuple[str, str, str], url: str, body: bytes,
             headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        start = time.perf_counter()
        count = Count(calls=1)
        try:
            resp = self._upstream("POST", url, body, headers)
        except httpx.HTTPError as err:
            count.errors, count.seconds = 1, time.perf_counter() - start
            self._record(key, count)
            return 502, json.dumps({"error": {"message": f"upstream: {type(err).__name__}: {err}"}}).encode(), None
        count.seconds = time.perf_counter() - start
        if resp.status_code >= 400:
            count.errors = 1
        else:
            count.prompt_tokens, count.completion_tokens = _usage_of(resp.content)
        self._record(key, count)
        return resp.status_code, resp.content, resp.headers.get("content-type")

    def _fan_out(self, key: tuple[str, str, str], url: str, payload: dict, n: int,
                 headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        """n separate n=1 requests (each counted), merged into one response with n choices."""
        merged: dict[str, Any] | None = None
        choices: list[dict] = []
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for i in range(n):
            one = {**payload, "n": 1}
            if payload.get("seed") is not None:
                one["seed"] = int(payload["seed"]) + i
            status, content, ctype = self._one(key, url, json.dumps(one).encode(), headers)
            if status >= 400:
                return status, content, ctype
            data = json.loads(content)
            merged = merged or data
            for c in data.get("choices", [])[:1]:
                choices.append({**c, "index": len(choices)})
            for k in usage:
                usage[k] += int((data.get("usage") or {}).get(k) or 0)
        assert merged is not None
        merged["choices"], merged["usage"] = choices, usage
        return 200, json.dumps(merged).encode(), "application/json"

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, content: bytes, ctype: str | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype or "application/json")
        h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        h.wfile.write(content)


# ---- one benchmark context ---------------------------------------------------------------------------------------

@dataclass
class Context:
    task_spec: str
    task: Task
    splits: Splits
    settings: RunSettings
    target: str  # model name as served (e.g. qwen2.5-coder-0.5b)
    optimizer: str
    proxy: CountingProxy
    max_calls: int
    out_dir: Path
    preset: str = "quick"
    overrides: dict[str, Any] = field(default_factory=dict)  # behavopt setting overrides (also shape the splits)
    data_dir: str | None = None
    fewshot_demos: int = 2
    workers: int = WORKERS

    @property
    def seed(self) -> int:
        return self.settings.data.seed

    def example_of(self, text: str) -> Example:
        return self._lookup[text]

    def __post_init__(self) -> None:
        # Peers hand back only the input text: it must name one example (true of the bbh and demo tasks).
        self._lookup: dict[str, Example] = {}
        for e in (*self.splits.train, *self.splits.dev, *self.splits.test):
            other = self._lookup.setdefault(e.input, e)
            if other.acceptable != e.acceptable:
                raise ValueError(f"{self.task_spec}: examples {other.id} and {e.id} share an input but not the answer")

    def score(self, output: str | None, text: str) -> tuple[str | None, bool]:
        if output is None:
            return None, False
        return self.task.is_correct(str(output), self.example_of(text))


def make_context(task_spec: str, *, target: str, optimizer: str, proxy: CountingProxy, max_calls: int,
                 out_dir: Path, preset: str = "quick", data_dir: str | None = None, seed: int = 0,
                 **overrides: Any) -> Context:
    overrides = {"seed": seed, **overrides}
    settings = settings_preset(preset).with_overrides(**overrides)
    task = load_task(task_spec, data_dir=data_dir)
    splits = task.split(settings.data.train_size, settings.data.dev_size, settings.data.test_size, seed=settings.data.seed)
    return Context(task_spec=task_spec, task=task, splits=splits, settings=settings, target=target,
                   optimizer=optimizer, proxy=proxy, max_calls=max_calls, out_dir=out_dir, preset=preset,
                   overrides=overrides, data_dir=data_dir)


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


# ---- behavopt --------------------------------------------------------------------------------------------------

def run_behavopt(ctx: Context, method: str) -> dict[str, Any]:
    """behavopt's own run (search + final test of initial and best) through the proxy, phase "all"."""
    from behavopt.runs.rundir import RunDir

    from behavopt.optimizers.run import optimize

    out = fresh_dir(ctx.out_dir / method)
    target = f"openai:{ctx.target}?base_url={ctx.proxy.base_url(method, 'all', 'target')}"
    optimizer = f"openai:{ctx.optimizer}?base_url={ctx.proxy.base_url(method, 'all', 'optimizer')}"
    result = optimize(ctx.task_spec, method, target, optimizer, out=out, data_dir=ctx.data_dir, preset=ctx.preset,
                      cache=False, api_key="none", max_calls=ctx.max_calls, **ctx.overrides)
    rundir = RunDir(out)
    test_ids = {e.id for e in ctx.splits.test}
    test_calls = sum(1 for cid in {"c0000", result.best_candidate} for r in rundir.load_records(cid)
                     if r.get("split") == "test" and r.get("id") in test_ids and not r.get("cached"))
    u = result.usage
    return {"initial_test": result.initial_test_score, "best_test": result.best_test_score,
            "initial_dev": result.initial_dev_score, "best_dev": result.best_dev_score,
            "best_prompt": result.best_prompt, "test_calls": test_calls, "stop_reason": result.stop_reason,
            "own_count": {"calls": sum(u[r].get("calls", 0) for r in ("target", "optimizer")),
                          "cache_hits": sum(u[r].get("cache_hits", 0) for r in ("target", "optimizer"))},
            "settings": {"method": method, "preset": ctx.preset, "max_calls": ctx.max_calls, "cache": False,
                         **{k: ctx.settings.to_dict()[k] for k in ("initial", "beam", "expand", "steps", "errors",
                                                                  "train_batch")}}}


# ---- DSPy (MIPROv2, COPRO) ---------------------------------------------------------------------------------------

def _dspy_lm(ctx: Context, system: str, phase: str, role: str):
    import dspy

    s = ctx.settings
    model = ctx.target if role == "target" else ctx.optimizer
    temperature = 0.0 if role == "target" else s.models.optimizer_temperature
    max_tokens = s.models.target_max_tokens if role == "target" else s.models.optimizer_max_tokens
    return dspy.LM(f"openai/{model}", api_base=ctx.proxy.base_url(system, phase, role), api_key="none", cache=False,
                   temperature=temperature, max_tokens=max_tokens)


def _dspy_examples(examples: list[Example]) -> list:
    import dspy

    return [dspy.Example(question=e.input, answer=e.target).with_inputs("question") for e in examples]


def _dspy_metric(ctx: Context) -> Callable:
    def metric(example: Any, pred: Any, trace: Any = None) -> float:
        return float(ctx.score(getattr(pred, "answer", None), example.question)[1])

    return metric


def _dspy_program(ctx: Context):
    import dspy

    return dspy.Predict(dspy.Signature("question -> answer", ctx.task.instruction))


def _dspy_instruction(program: Any) -> tuple[str, int]:
    predictor = program.predictors()[0]
    return predictor.signature.instructions, len(getattr(predictor, "demos", []) or [])


def _dspy_test(ctx: Context, system: str, program: Any) -> float:
    import dspy

    prog = program.deepcopy()
    prog.set_lm(_dspy_lm(ctx, system, "test", "target"))
    evaluate = dspy.Evaluate(devset=_dspy_examples(ctx.splits.test), metric=_dspy_metric(ctx),
                             num_threads=ctx.workers, display_progress=False, max_errors=NO_LIMIT, failure_score=0.0)
    return float(evaluate(prog).score) / 100.0


def _dspy_finish(ctx: Context, system: str, initial: Any, best: Any, best_dev: float | None,
                 settings: dict[str, Any]) -> dict[str, Any]:
    instruction, demos = _dspy_instruction(best)
    initial_test = _dspy_test(ctx, system, initial)
    same = instruction == ctx.task.instruction and demos == 0
    best_test = initial_test if same else _dspy_test(ctx, system, best)
    return {"initial_test": initial_test, "best_test": best_test, "best_dev": best_dev,
            "best_prompt": instruction, "demos": demos, "settings": settings}


def run_miprov2(ctx: Context, system: str = "miprov2", demos: int = 0) -> dict[str, Any]:
    import dspy

    target_lm, opt_lm = _dspy_lm(ctx, system, "search", "target"), _dspy_lm(ctx, system, "search", "optimizer")
    settings = {"auto": "light", "max_bootstrapped_demos": demos, "max_labeled_demos": 0, "num_threads": ctx.workers,
                "seed": ctx.seed, "trainset": "train", "valset": "dev"}
    teleprompter = dspy.MIPROv2(metric=_dspy_metric(ctx), prompt_model=opt_lm, task_model=target_lm, auto="light",
                                max_bootstrapped_demos=demos, max_labeled_demos=0, num_threads=ctx.workers,
                                max_errors=NO_LIMIT, seed=ctx.seed, verbose=False)
    initial = _dspy_program(ctx)
    with dspy.context(lm=target_lm):
        best = teleprompter.compile(initial.deepcopy(), trainset=_dspy_examples(ctx.splits.train),
                                    valset=_dspy_examples(ctx.splits.dev))
    score = getattr(best, "score", None)
    return _dspy_finish(ctx, system, initial, best, score / 100.0 if score is not None else None, settings)


def copro_breadth(budget: int, n_eval: int, depth: int = COPRO_DEPTH) -> int:
    """The largest breadth whose COPRO run fits the budget: depth x breadth candidates scored on n_eval examples,
    plus (breadth - 1) + (depth - 1) x breadth proposals (n > 1 completions, one call each after fan-out)."""
    breadth = 2
    while (depth * (breadth + 1) * n_eval + breadth + (depth - 1) * (breadth + 1)) <= budget:
        breadth += 1
    return breadth


def run_copro(ctx: Context, system: str = "copro") -> dict[str, Any]:
    import dspy

    target_lm, opt_lm = _dspy_lm(ctx, system, "search", "target"), _dspy_lm(ctx, system, "search", "optimizer")
    breadth = copro_breadth(ctx.max_calls, len(ctx.splits.dev))
    settings = {"breadth": breadth, "depth": COPRO_DEPTH, "init_temperature": 1.4, "num_threads": ctx.workers,
                "eval_set": "dev"}
    teleprompter = dspy.COPRO(prompt_model=opt_lm, metric=_dspy_metric(ctx), breadth=breadth, depth=COPRO_DEPTH,
                              init_temperature=1.4)
    initial = _dspy_program(ctx)
    # COPRO passes eval_kwargs both to Evaluate() and to its __call__, which takes no max_errors: set it globally.
    with dspy.context(lm=target_lm, max_errors=NO_LIMIT):
        best = teleprompter.compile(initial.deepcopy(), trainset=_dspy_examples(ctx.splits.dev),
                                    eval_kwargs={"num_threads": ctx.workers, "display_progress": False})
    candidates = getattr(best, "candidate_programs", None) or []
    best_dev = candidates[0]["score"] / 100.0 if candidates else None
    return _dspy_finish(ctx, system, initial, best, best_dev, settings)


# ---- GEPA --------------------------------------------------------------------------------------------------------

def _gepa_adapter(ctx: Context, system: str, phase: str):
    from gepa.adapters.default_adapter.default_adapter import (
        DefaultAdapter,
        EvaluationResult,
    )

    def evaluator(data: dict, response: str) -> EvaluationResult:
        answer, correct = ctx.score(response, data["input"])
        gold = ctx.example_of(data["input"]).target
        if correct:
            feedback = f"The generated response is correct. The final answer '{answer}' matches the correct answer."
        else:
            got = f"the final answer read from it is '{answer}'" if answer is not None else \
                "no final answer could be read from it"
            feedback = (f"The generated response is incorrect: {got}. The correct answer is '{gold}'. "
                        "The response must end with the final answer in the required format.")
        return EvaluationResult(score=1.0 if correct else 0.0, feedback=feedback)

    s = ctx.settings
    return DefaultAdapter(model=f"openai/{ctx.target}", evaluator=evaluator, max_litellm_workers=ctx.workers,
                          litellm_batch_completion_kwargs={
                              "api_base": ctx.proxy.base_url(system, phase, "target"), "api_key": "none",
                              "temperature": 0.0, "max_tokens": s.models.target_max_tokens})


def _gepa_data(examples: list[Example]) -> list[dict]:
    return [{"input": e.input, "answer": e.target, "additional_context": {}} for e in examples]


def run_gepa(ctx: Context, system: str = "gepa") -> dict[str, Any]:
    import gepa
    from gepa.lm import LM

    s = ctx.settings
    reflection_lm = LM(f"openai/{ctx.optimizer}", temperature=s.models.optimizer_temperature,
                       max_tokens=s.models.optimizer_max_tokens, api_base=ctx.proxy.base_url(system, "search", "optimizer"),
                       api_key="none")
    seed_candidate = {"instruction": ctx.task.instruction}
    run_dir = fresh_dir(ctx.out_dir / system)
    minibatch = 3
    # max_metric_calls counts target rollouts only; this stopper also counts the reflection calls (at the proxy)
    # and stops before an iteration that could pass the budget: 2 minibatches, 1 reflection, 1 full dev evaluation.
    worst_iteration = 2 * minibatch + 1 + len(ctx.splits.dev)

    def budget_reached(state: Any) -> bool:
        return ctx.proxy.counts(system, "search").calls + worst_iteration > ctx.max_calls

    result = gepa.optimize(seed_candidate=seed_candidate, trainset=_gepa_data(ctx.splits.train),
                           valset=_gepa_data(ctx.splits.dev), adapter=_gepa_adapter(ctx, system, "search"),
                           reflection_lm=reflection_lm, reflection_minibatch_size=minibatch,
                           max_metric_calls=ctx.max_calls, stop_callbacks=[budget_reached], seed=ctx.seed,
                           run_dir=str(run_dir), display_progress_bar=False)
    best = result.best_candidate
    best = best if isinstance(best, dict) else {"instruction": str(best)}
    test_adapter = _gepa_adapter(ctx, system, "test")
    test = _gepa_data(ctx.splits.test)

    def accuracy(candidate: dict) -> float:
        scores = test_adapter.evaluate(test, candidate, capture_traces=False).scores
        return sum(scores) / len(scores)

    initial_test = accuracy(seed_candidate)
    best_test = initial_test if best == seed_candidate else accuracy(best)
    return {"initial_test": initial_test, "best_test": best_test,
            "best_dev": result.val_aggregate_scores[result.best_idx], "best_prompt": best["instruction"],
            "metric_calls": result.total_metric_calls, "candidates": len(result.candidates),
            "settings": {"max_metric_calls": ctx.max_calls, "adapter": "DefaultAdapter",
                         "reflection_minibatch_size": minibatch, "stop_before_calls_pass": ctx.max_calls,
                         "candidate_selection_strategy": "pareto",
                         "use_merge": False, "max_litellm_workers": ctx.workers, "seed": ctx.seed}}


RUNNERS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "apo": lambda ctx: run_behavopt(ctx, "apo"),
    "opro": lambda ctx: run_behavopt(ctx, "opro"),
    "abo": lambda ctx: run_behavopt(ctx, "abo"),
    "miprov2": lambda ctx: run_miprov2(ctx, "miprov2", 0),
    "miprov2-fewshot": lambda ctx: run_miprov2(ctx, "miprov2-fewshot", ctx.fewshot_demos),
    "copro": lambda ctx: run_copro(ctx),
    "gepa": lambda ctx: run_gepa(ctx),
}


def quiet_litellm() -> None:
    """No "Provider List" banner for every call whose (local) model has no price entry."""
    try:
        import litellm
    except ImportError:
        return
    litellm.suppress_debug_info = True


@contextlib.contextmanager
def _logs_to(stream: Any, names: tuple[str, ...] = ("dspy", "optuna", "gepa", "LiteLLM")):
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (logger.handlers[:], logger.propagate)
        logger.handlers, logger.propagate = [handler], False
    try:
        yield
    finally:
        for name, (handlers, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = handlers, propagate


def run_system(ctx: Context, system: str) -> dict[str, Any]:
    """One system on one task; never raises: a failure becomes the row's `error`."""
    quiet_litellm()
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    log_path = ctx.out_dir / f"{system}.log"
    start = time.monotonic()
    # Peers print and log a lot (COPRO prints every proposer call, GEPA every iteration, DSPy and Optuna every
    # evaluation, tqdm bars): all of it, stdout and stderr, goes to the system's log file.
    with open(log_path, "w") as log, contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), _logs_to(log):
        try:
            out = RUNNERS[system](ctx)
            error = None
        except Exception as err:  # noqa: BLE001 - one system's failure must not end the benchmark
            out, error = {}, f"{type(err).__name__}: {err}"
            out["traceback"] = traceback.format_exc(limit=20)
    wall = time.monotonic() - start
    total = ctx.proxy.counts(system)
    if system in BEHAVOPT_SYSTEMS:
        test_calls = int(out.get("test_calls") or 0)
    else:
        test_calls = ctx.proxy.counts(system, "test").calls
    search_calls = total.calls - test_calls
    row = {"task": ctx.task_spec, "system": system, "seed": ctx.seed,
           "initial_test": out.get("initial_test"), "best_test": out.get("best_test"), "best_dev": out.get("best_dev"),
           "test_n": len(ctx.splits.test), "calls": total.calls, "search_calls": search_calls,
           "test_calls": test_calls,
           "target_calls": ctx.proxy.counts(system, role="target").calls,
           "optimizer_calls": ctx.proxy.counts(system, role="optimizer").calls,
           "prompt_tokens": total.prompt_tokens, "completion_tokens": total.completion_tokens,
           "tokens": total.prompt_tokens + total.completion_tokens, "http_errors": total.errors,
           "wall_s": round(wall, 3), "budget": ctx.max_calls, "within_budget": search_calls <= ctx.max_calls,
           "error": error, "log": str(log_path), "proxy_counts": ctx.proxy.breakdown(system),
           **{k: v for k, v in out.items() if k not in ("initial_test", "best_test", "best_dev")}}
    return row


# ---- report ------------------------------------------------------------------------------------------------------

def _fmt(x: Any) -> str:
    return "-" if x is None else f"{x:.3f}"


def markdown(rows: list[dict], meta: dict[str, Any]) -> str:
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
        lines.append(f"| {r['task']} | {r['system']} | {_fmt(r['initial_test'])} | {_fmt(r['best_test'])} | "
                     f"{_fmt(r['best_dev'])} | {budget} | {r['test_calls']} | {r['tokens']} | {r['wall_s']:.0f} | "
                     f"{note} |")
    return "\n".join(lines) + "\n"


SAME_SETTINGS = ("target", "optimizer", "preset", "seed", "max_calls", "fanout_n")


def finished_rows(path: Path, meta: dict[str, Any]) -> list[dict]:
    """The rows without error of an earlier run written to `path`, for --resume; ValueError where that run used other
    settings (its rows would not compare with the new ones)."""
    if not path.exists():
        return []
    earlier = json.loads(path.read_text())
    changed = [k for k in SAME_SETTINGS if earlier.get(k) != meta[k]]
    if changed:
        k = changed[0]
        raise ValueError(f"--resume: {path} was run with {k} {earlier.get(k)!r}, not {meta[k]!r}; "
                         "give the same settings or another --name")
    return [r for r in earlier.get("rows", []) if not r.get("error")]


# ---- servers -----------------------------------------------------------------------------------------------------

def wait_ready(base_url: str, timeout_s: float) -> None:
    """Wait for a server this bench did not start (--base-url)."""
    url = re.sub(r"/v1/?$", "", base_url.rstrip("/")) + "/v1"
    deadline = time.monotonic() + timeout_s
    while not answers_models(url):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer from {url}/models after {timeout_s:.0f}s")
        time.sleep(2)


def start_servers(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[str, str]:
    """The target's and the optimizer's `behavopt serve`, loading side by side; stopped when `stack` closes."""
    names = [args.target] + ([args.optimizer] if args.optimizer != args.target else [])
    servers = []
    for i, name in enumerate(names):
        serve_args = [f"local:{name}"]
        if args.serve_threads:
            serve_args += ["--threads", str(args.serve_threads)]
        if args.llama_server:
            serve_args += ["--llama-server", args.llama_server, "--parallel", str(args.parallel)]
        server = ServeProcess(serve_args, RESULTS / "runs" / "peers" / f"serve-{name}.log", port=args.port + i)
        print(f"starting: {' '.join(server.argv)}", flush=True)
        server.launch()
        stack.callback(server.stop)
        servers.append(server)
    urls = [server.wait_ready(args.serve_timeout, poll_s=2) for server in servers]
    return urls[0].removesuffix("/v1"), urls[-1].removesuffix("/v1")


# ---- main --------------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()),
                                 epilog="See the module docstring for the real-run commands and the peers' settings.")
    ap.add_argument("--tasks", nargs="+", default=["bbh:object_counting", "bbh:navigate"])
    ap.add_argument("--systems", nargs="+", default=list(DEFAULT_SYSTEMS), choices=ALL_SYSTEMS)
    ap.add_argument("--target", default="qwen2.5-coder-0.5b", help="served model name of the target")
    ap.add_argument("--optimizer", default="qwen2.5-coder-1.5b", help="served model name of the optimizer")
    ap.add_argument("--base-url", default=None, help="running server of the target (http://HOST:PORT[/v1])")
    ap.add_argument("--optimizer-base-url", default=None,
                    help="running server of the optimizer (default: --base-url)")
    ap.add_argument("--serve", action="store_true",
                    help="start `behavopt serve local:NAME` for both models, stop them at the end")
    ap.add_argument("--port", type=int, default=8080, help="with --serve: target port; the optimizer gets port + 1")
    ap.add_argument("--serve-threads", type=int, default=None, help="with --serve: threads per server")
    ap.add_argument("--llama-server", default=None,
                    help="with --serve: serve with this llama.cpp server binary (`make llama-server`)")
    ap.add_argument("--parallel", type=int, default=4, help="with --llama-server: slots per server")
    ap.add_argument("--serve-timeout", type=float, default=1800, help="with --serve: seconds to wait for the servers")
    ap.add_argument("--max-calls", type=int, default=600, help="search LM-call budget per system and task")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", default="quick", help="behavopt preset: split sizes, search sizes, sampling")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--fewshot-demos", type=int, default=2, help="bootstrapped demos of miprov2-fewshot")
    ap.add_argument("--no-fanout", action="store_true", help="forward n > 1 requests as they are")
    ap.add_argument("--name", default="peers", help="results file name: <date>-<name>.json/.md")
    ap.add_argument("--resume", action="store_true",
                    help="keep the rows without error of an earlier run with the same settings and --name; run the rest")
    args = ap.parse_args(argv)
    if not args.serve and not args.base_url:
        ap.error("give --base-url (and --optimizer-base-url) of running servers, or --serve")

    stem = RESULTS / f"{dt.date.today().isoformat()}-{args.name}"
    meta = {"target": args.target, "optimizer": args.optimizer, "preset": args.preset, "seed": args.seed,
            "max_calls": args.max_calls, "sizes": None, "fanout_n": not args.no_fanout, "tasks": args.tasks,
            "systems": args.systems}
    rows: list[dict] = []
    if args.resume:
        try:
            rows = finished_rows(Path(f"{stem}.json"), meta)
        except ValueError as err:
            ap.error(str(err))
    done = {(r["task"], r["system"]) for r in rows}
    with contextlib.ExitStack() as servers:
        if args.serve:
            target_url, optimizer_url = start_servers(args, servers)
        else:
            target_url, optimizer_url = args.base_url, args.optimizer_base_url or args.base_url
            wait_ready(target_url, 60)
            wait_ready(optimizer_url, 60)
        for task_spec in args.tasks:
            # One proxy per task: its counts are per system, so a shared one would add up a system's tasks.
            with CountingProxy({"target": target_url, "optimizer": optimizer_url},
                               fanout_n=not args.no_fanout) as proxy:
                ctx = make_context(task_spec, target=args.target, optimizer=args.optimizer, proxy=proxy,
                                   max_calls=args.max_calls, preset=args.preset, data_dir=args.data_dir,
                                   seed=args.seed, out_dir=RESULTS / "runs" / "peers" / re.sub(r"[^\w.-]+", "_",
                                                                                               task_spec))
                ctx.fewshot_demos = args.fewshot_demos
                for system in args.systems:
                    if (task_spec, system) in done:
                        print(f"{task_spec} {system}: kept from {stem}.json", flush=True)
                        continue
                    print(f"{task_spec} {system} ...", flush=True)
                    row = run_system(ctx, system)
                    rows.append(row)
                    print(f"  {task_spec} {system}: {_fmt(row['initial_test'])} -> {_fmt(row['best_test'])}, "
                          f"{row['search_calls']} search calls + {row['test_calls']} test calls, "
                          f"{row['wall_s']:.0f}s" + (f", ERROR {row['error']}" if row["error"] else ""), flush=True)
                    meta["sizes"] = [len(ctx.splits.train), len(ctx.splits.dev), len(ctx.splits.test)]
                    Path(f"{stem}.json").write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n")
                    Path(f"{stem}.md").write_text(markdown(rows, meta))
    if rows:
        print(Path(f"{stem}.md").read_text())
        print(f"wrote {stem}.json and {stem}.md")


if __name__ == "__main__":
    main()
