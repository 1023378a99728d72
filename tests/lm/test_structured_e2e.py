"""Replies held to a JSON schema, end to end with SmolLM2: llama.cpp in-process and llama-server each decode under
the schema's grammar, so even a 135M model's reply parses and matches it."""

from __future__ import annotations

import asyncio
import json

import jsonschema
import pytest

from behavopt.lm.client import ModelPool
from behavopt.lm.types import ChatRequest, Message
from tests.lm.test_llama_server import _built

pytestmark = pytest.mark.e2e

SCHEMA = {"type": "object", "additionalProperties": False, "required": ["steps", "answer"],
          "properties": {"steps": {"type": "array", "minItems": 3, "maxItems": 3,
                                   "items": {"type": "string", "minLength": 1, "maxLength": 40}},
                         "answer": {"type": "string", "enum": ["4"]}}}
ASK = (Message("user", "How many legs has a cat? Work it out in three steps."),)


@pytest.mark.parametrize("slots", [None, 2])
def test_a_reply_held_to_a_schema_parses_and_matches_it(smollm_path, slots, monkeypatch):
    if slots is not None:
        if _built() is None:
            pytest.skip("llama-server not built: run `make llama-server`")
        monkeypatch.setenv("BEHAVOPT_LLAMA_SERVER", str(_built()))

    async def main():
        async with ModelPool(threads=2, slots=slots) as pool:
            lm = pool.lm("local:smollm2-135m?n_ctx=2048", "optimizer")
            held = await lm.complete(ChatRequest(ASK, max_tokens=200, json_schema=json.dumps(SCHEMA)))
            free = await lm.complete(ChatRequest(ASK, max_tokens=60))
            return held, free

    held, free = asyncio.run(main())
    jsonschema.validate(json.loads(held.text), SCHEMA)
    # Without the schema the same model writes prose: the grammar did the work.
    with pytest.raises((ValueError, jsonschema.ValidationError)):
        jsonschema.validate(json.loads(free.text), SCHEMA)
