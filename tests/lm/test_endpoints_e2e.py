"""One model at two real endpoints (two `behavopt serve` processes with SmolLM2): an evaluation spreads over both,
and when one server dies mid-way the other answers the rest: every example scored, none missing."""

from __future__ import annotations

import asyncio

import pytest

from behavopt.eval import EvalSettings, Evaluator, InstructionPrompt
from behavopt.lm.client import ModelPool
from behavopt.lm.serve_process import ServeProcess
from behavopt.tasks import load_task

pytestmark = pytest.mark.e2e


def test_an_evaluation_survives_one_of_two_endpoints_dying(smollm_path, tmp_path):
    servers = [ServeProcess(["local:smollm2-135m", "--threads", "1", "--n-ctx", "2048"], tmp_path / f"s{k}.log")
               for k in range(2)]
    for server in servers:
        server.launch()  # both load at once
    try:
        urls = [server.wait_ready() for server in servers]
        task = load_task("demo:arithmetic")
        examples = task.examples[:12]

        async def go():
            async with ModelPool() as pool:
                lm = pool.lm(f"openai:smollm2-135m?base_url={','.join(urls)}&concurrency=2&timeout=30", "target")
                done = []

                def heard(record):
                    done.append(record)
                    if len(done) == 4:
                        servers[1].stop(grace_s=0)  # the second endpoint dies mid-evaluation

                result = await Evaluator(task, lm, EvalSettings(max_tokens=24)).evaluate(
                    InstructionPrompt(task.instruction), examples, split="test", on_record=heard)
                return result, lm.backend

        result, backend = asyncio.run(go())
    finally:
        for server in servers:
            server.stop()
    assert result.summary.n == 12 and result.summary.missing == 0
    first, second = backend.endpoints
    assert first.served > second.served >= 1  # both served before the kill; the survivor served the rest
