"""Plumbing of bench/peers.py (its parts in bench/peerbench/) WITHOUT real models.

A small FAKE OpenAI-compatible chat server (a thread in this process) gives canned replies: a task prompt gets
"Answer: 3" (in DSPy's field format when DSPy asks), an optimizer prompt gets a plausible instruction (or the format
behavopt's ABO templates and GEPA's reflection ask for). Like llama-cpp-python's server it ignores `n`. Every system
of the benchmark runs on `demo:object-counting` with tiny splits and budgets through the counting proxy; the test
checks that each returns a result row (accuracy in [0, 1], calls counted at the proxy > 0, no error), that the proxy
counted every request the fake server saw, and that the markdown table renders.

This fake server only checks the wiring (APIs, formats, counting, budgets); its accuracies mean nothing.
"""

from __future__ import annotations

import json
import os
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from behavopt.optimizers.estimate import SPEED_PROMPT

from tests.bench.helpers import load_peer_part, load_peers

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no fetch of LiteLLM's price list from GitHub
pytest.importorskip("dspy", reason="the `bench` extra is not installed: pip install '.[bench]'")
pytest.importorskip("gepa", reason="the `bench` extra is not installed: pip install '.[bench]'")
pytest.importorskip("optuna", reason="the `bench` extra is not installed: pip install '.[bench]'")

# LiteLLM's pydantic models warn about ReadOnly TypedDict items on import: not ours, not about this test.
pytestmark = pytest.mark.filterwarnings("ignore:.*ReadOnly.*:UserWarning")

TARGET, OPTIMIZER = "fake-target", "fake-optimizer"
INSTRUCTION = "Count every object the question asks about, one by one. End your reply with a line 'Answer: <number>'."


def _text(content) -> str:
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content or ""


def dspy_reply(system: str, is_target: bool, answer: str) -> str | None:
    """DSPy's ChatAdapter names its output fields in the system message; fill each one."""
    section = system.partition("Your output fields are:")[2].partition("All interactions")[0]
    fields = re.findall(r"^\d+\. `(\w+)`", section, re.M)
    if not fields:
        return None
    values = []
    for name in fields:
        if name == "answer" or is_target:
            value = answer
        elif "instruction" in name:
            value = INSTRUCTION
        elif "prefix" in name:
            value = "Answer:"
        else:
            value = "The questions list objects and ask how many there are of one kind."
        values.append(f"[[ ## {name} ## ]]\n{value}")
    return "\n\n".join(values) + "\n\n[[ ## completed ## ]]"


def target_answer(question: str, gold: dict[str, str]) -> str:
    """Right on the examples whose gold count is even, "3" (wrong, odd) on the others: every system that wires
    the metric correctly gets the same test accuracy."""
    for text, target in gold.items():
        if text in question:
            return target if int(target) % 2 == 0 else "3"
    return "3"


def reply_for(payload: dict, gold: dict[str, str]) -> str:
    messages = payload.get("messages") or []
    system = "\n".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    text = "\n".join(_text(m.get("content")) for m in messages)
    last_user = next((_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    is_target = payload.get("model") == TARGET
    answer = target_answer(last_user, gold)
    dspy = dspy_reply(system, is_target, answer)
    if dspy is not None:
        return dspy
    if is_target:
        return f"Let me count. Answer: {answer}"
    if "within ``` blocks" in text:  # GEPA's reflection
        return f"```\n{INSTRUCTION}\n```"
    if "Show how to follow a procedure exactly" in text:  # ABO's demonstration
        answer = re.search(r"Correct answer: (\S+)", text).group(1)
        steps = len(re.findall(r"^Step \d+:", text.split("Input:")[0], re.M)) or 2
        return "\n".join(f"Step {i + 1}: done" for i in range(steps)) + f"\nAnswer: {answer}"
    if "Which is the first step where the model" in text:
        return "Failing step: 1\nReason: it missed an object."
    if "step-by-step procedures" in text or "finer" in text:
        return "Step 1: List every object the question asks about.\nStep 2: Count them one by one."
    return f"<START>{INSTRUCTION}<END>"


class FakeServer:
    def __init__(self, gold: dict[str, str]):
        self.gold = gold  # question -> gold answer
        self.requests = 0
        self.seen: set[tuple] = set()  # (model, max_tokens, temperature) of every request but the speed probe
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, obj):
                body = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self._send({"object": "list", "data": [{"id": TARGET, "object": "model"},
                                                       {"id": OPTIMIZER, "object": "model"}]})

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                # behavopt's estimate times each model writing SPEED_TOKENS: a timing probe, not a scored call
                probe = any(_text(m.get("content")) == SPEED_PROMPT for m in payload.get("messages") or [])
                with fake.lock:
                    fake.requests += 1
                    if not probe:
                        fake.seen.add((payload.get("model"),
                                       payload.get("max_tokens") or payload.get("max_completion_tokens"),
                                       payload.get("temperature")))
                content = reply_for(payload, fake.gold)
                prompt = sum(len(_text(m.get("content")).split()) for m in payload.get("messages") or [])
                self._send({"id": "chatcmpl-fake", "object": "chat.completion", "created": 0,
                            "model": payload.get("model"),
                            "choices": [{"index": 0, "finish_reason": "stop",  # one choice: `n` is ignored
                                         "message": {"role": "assistant", "content": content}}],
                            "usage": {"prompt_tokens": prompt, "completion_tokens": len(content.split()),
                                      "total_tokens": prompt + len(content.split())}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    peers = load_peers()
    from behavopt.tasks import load_task

    fake = FakeServer({e.input: e.target for e in load_task("demo:object-counting").examples})
    proxy = peers.CountingProxy({"target": fake.url + "/v1", "optimizer": fake.url}).start()
    ctx = peers.make_context("demo:object-counting", target=TARGET, optimizer=OPTIMIZER, proxy=proxy, max_calls=40,
                             out_dir=tmp_path_factory.mktemp("peers"), preset="quick", seed=0,
                             train_size=6, dev_size=4, test_size=4, initial=2, beam=1, expand=1, steps=1, errors=2,
                             train_batch=4)
    ctx.workers = 2
    ctx.fewshot_demos = 1
    rows: dict[str, dict] = {}
    yield peers, fake, proxy, ctx, rows
    proxy.stop()
    fake.close()


@pytest.mark.parametrize("system", ["apo", "opro", "abo", "miprov2", "miprov2-fewshot", "copro", "gepa"])
def test_system_runs_through_the_proxy(bench, system):
    peers, fake, proxy, ctx, rows = bench
    fake.seen.clear()
    row = peers.run_system(ctx, system)
    rows[system] = row
    # The same target sampling for everyone: the preset's max tokens, temperature 0.
    assert {seen for seen in fake.seen if seen[0] == TARGET} == {(TARGET, ctx.settings.models.target_max_tokens, 0.0)}
    assert row["error"] is None, row.get("traceback")
    assert 0.0 <= row["initial_test"] <= 1.0 and 0.0 <= row["best_test"] <= 1.0
    # The fake target is right exactly on the even gold counts, whatever the prompt: the same accuracy for everyone
    even = sum(int(e.target) % 2 == 0 for e in ctx.splits.test) / len(ctx.splits.test)
    assert row["initial_test"] == pytest.approx(even) and row["best_test"] == pytest.approx(even)
    assert row["calls"] > 0 and row["target_calls"] > 0 and row["optimizer_calls"] > 0
    assert row["test_calls"] >= len(ctx.splits.test)
    assert row["search_calls"] == row["calls"] - row["test_calls"] > 0
    assert row["tokens"] > 0 and row["http_errors"] == 0
    assert isinstance(row["best_prompt"], str) and row["best_prompt"]
    systems = load_peer_part("systems")
    if system in systems.BEHAVOPT_SYSTEMS:  # the proxy agrees with behavopt's own count
        assert row["calls"] == row["own_count"]["calls"]
    if system in systems.BEHAVOPT_SYSTEMS + ("copro", "gepa"):  # budgets these systems can be held to
        assert row["within_budget"], row["search_calls"]
    if system == "copro":  # n > 1 was fanned out: breadth - 1 proposals in the first call, breadth later
        breadth = row["settings"]["breadth"]
        depth = load_peer_part("dspy_runs").COPRO_DEPTH
        assert row["optimizer_calls"] == (breadth - 1) + (depth - 1) * breadth


def test_every_request_was_counted_and_the_table_renders(bench):
    peers, fake, proxy, ctx, rows = bench
    if len(rows) < 7:
        pytest.skip("needs the per-system runs above")
    assert sum(r["calls"] for r in rows.values()) == fake.requests
    meta = {"target": TARGET, "optimizer": OPTIMIZER, "preset": "quick", "seed": 0, "max_calls": 40,
            "sizes": [len(ctx.splits.train), len(ctx.splits.dev), len(ctx.splits.test)]}
    table = peers.markdown(list(rows.values()), meta)
    lines = table.strip().splitlines()
    assert lines[2].startswith("| task | system | initial test | best test |")
    assert len(lines) == 4 + len(rows)
    assert all(f"| demo:object-counting | {s} |" in table for s in rows)


def test_a_failing_system_becomes_an_error_row(bench, monkeypatch):
    peers, fake, proxy, ctx, rows = bench

    def broken(ctx):
        raise RuntimeError("the optimizer fell over")

    monkeypatch.setitem(load_peer_part("systems").RUNNERS, "gepa", broken)
    row = peers.run_system(ctx, "gepa")
    assert row["error"] == "RuntimeError: the optimizer fell over" and row["best_test"] is None
    assert "failed: RuntimeError: the optimizer fell over" in peers.markdown([row], {
        "target": TARGET, "optimizer": OPTIMIZER, "preset": "quick", "seed": 0, "max_calls": 40, "sizes": [6, 4, 4]})
