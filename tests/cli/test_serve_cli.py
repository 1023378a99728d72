"""`behavopt serve`: the argv of each server, one-line errors, and llama.cpp's server with parallel slots end to end
(when `make llama-server` has built it)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import pytest

from behavopt.lm.llama_server import llama_server_argv
from behavopt.lm.client import ModelPool
from behavopt.lm.serve_process import ServeProcess
from behavopt.lm.types import ChatRequest, Message
from tests.cli.test_eval_cli import behavopt
from tests.conftest import REPO


def test_llama_server_argv_gives_each_slot_the_asked_window():
    argv = llama_server_argv(Path("/bin/llama-server"), Path("/m.gguf"), "m", host="127.0.0.1", port=8080,
                             n_ctx=2048, threads=2, parallel=4)
    assert argv[:3] == ["/bin/llama-server", "--model", "/m.gguf"]
    assert argv[argv.index("--ctx-size") + 1] == "8192" and argv[argv.index("--parallel") + 1] == "4"
    assert argv[argv.index("--alias") + 1] == "m" and argv[argv.index("--threads") + 1] == "2"


def test_parallel_without_llama_server_is_one_line():
    proc = behavopt("serve", "local:smollm2-135m", "--parallel", "4")
    assert proc.returncode == 2 and proc.stderr.startswith("error: --parallel needs --llama-server")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_missing_llama_server_binary_is_one_line(tmp_path):
    proc = behavopt("serve", "local:smollm2-135m", "--llama-server", str(tmp_path / "llama-server"))
    assert proc.returncode == 2 and proc.stderr.startswith("error: llama-server binary not found")
    assert "make llama-server" in proc.stderr


def _llama_server() -> Path | None:
    path = Path(os.environ.get("BEHAVOPT_LLAMA_SERVER", REPO / ".build" / "llama-server"))
    return path if path.is_file() else None


@pytest.mark.e2e
@pytest.mark.skipif(_llama_server() is None, reason="llama-server not built: run `make llama-server`")
def test_llama_server_answers_requests_in_parallel_slots(smollm_path, tmp_path):
    question = (Message("user", "What is the capital of France? Answer in one word."),)
    with ServeProcess(["local:smollm2-135m", "--llama-server", str(_llama_server()), "--parallel", "2",
                       "--threads", "2", "--n-ctx", "1024"], tmp_path / "serve.log") as base:
        async def main():
            async with ModelPool(base_url=base, api_key="sk-test-not-logged") as pool:
                lm = pool.lm("openai:smollm2-135m", "target")
                return await asyncio.gather(*(lm.complete(ChatRequest(question, max_tokens=8, seed=i))
                                              for i in range(4)))

        outs = asyncio.run(main())
        slots = httpx.get(base.removesuffix("/v1") + "/slots", timeout=5)
    assert all(o.text.strip() and o.completion_tokens > 0 for o in outs)
    assert "paris" in outs[0].text.lower()
    assert slots.status_code == 200 and len(slots.json()) == 2  # two slots decode side by side
