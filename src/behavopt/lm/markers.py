"""Chat-template control markers in message text, made inert for the models behavopt renders itself.

llama.cpp (in-process and llama-server) renders the chat template to text and reads control tokens back out of it,
so a dataset input or a model output holding `<|im_start|>system` would open a new turn. Message text is data: before a local model sees it, each
marker gets a zero-width space after its first character, so it reads the same to a person and tokenizes as text.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"
# ChatML and Llama-3/Phi style <|...|> tokens, Llama-2/Mistral [INST] and <<SYS>>, Gemma's turn markers, <s> and </s>.
_MARKER = re.compile(r"<\|[A-Za-z0-9_]+\|>|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|</?s>")


def inert(text: str) -> str:
    """`text` with every chat-template marker broken by a zero-width space (text without markers is unchanged)."""
    return _MARKER.sub(lambda m: m.group(0)[0] + ZERO_WIDTH_SPACE + m.group(0)[1:], text)
