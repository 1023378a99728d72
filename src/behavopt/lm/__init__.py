"""LM layer: one async chat interface over in-process llama.cpp models and OpenAI-compatible servers."""

from behavopt.lm.cache import ResponseCache, cache_key
from behavopt.lm.client import LM, ModelPool
from behavopt.lm.errors import (
           LMContextOverflow,
           LMError,
           LMRetriesExhausted,
           LMTransientError,
)
from behavopt.lm.retry import RetryPolicy
from behavopt.lm.spec import ModelSpec, parse_spec
from behavopt.lm.types import ChatRequest, Completion, Message, Usage, UsageByRole

__all__ = ["LM", "ModelPool", "ResponseCache", "cache_key", "LMError", "LMContextOverflow", "LMRetriesExhausted",
           "LMTransientError", "RetryPolicy", "ModelSpec", "parse_spec", "ChatRequest", "Completion", "Message",
           "Usage", "UsageByRole"]
