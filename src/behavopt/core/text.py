"""Text helpers shared by every layer that talks to a model: filling a prompt template, and reading tagged blocks
and lists out of a model's reply."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

# A block ends at <END>, at the next <START> (a small model that forgot <END>) or at the end of the reply.
_TAGGED = re.compile(r"<START>(.*?)(?=<START>|<END>|$)", re.S | re.I)
_TAG = re.compile(r"<(?:START|END)>", re.I)
# A label a model puts before the text it was asked for ("New prompt:", "**Improved instruction 2:**").
_LABEL = re.compile(r"^\s*(?:\*\*)?(?:new|improved|revised|updated)?\s*(?:instruction|prompt)s?\s*(?:\d+)?\s*:(?:\*\*)?"
                    r"\s*", re.I)
_SLOT = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=None)
def template(package: str, name: str) -> str:
    """The text of `prompts/<name>.txt` inside `package`."""
    return resources.files(package).joinpath("prompts", f"{name}.txt").read_text("utf-8")


def fill(text: str, **values: object) -> str:
    """Fill `{key}` slots in one pass: a value that itself holds `{key}` (a prompt, an example) is never filled in,
    and braces without a matching value are left as they are."""
    return _SLOT.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text)


def clean_block(block: str) -> str:
    """A block without tags, a leading label, backticks or one pair of surrounding quotes."""
    block = _LABEL.sub("", _TAG.sub("", block).strip())  # a stray tag (e.g. <END> without <START>) is no text
    block = block.strip().strip("`").strip()
    if len(block) >= 2 and block[0] == block[-1] and block[0] in "\"'":
        block = block[1:-1].strip()
    return block


def tagged_blocks(text: str) -> list[str]:
    """The <START>...<END> blocks of a reply (an unclosed last block counts)."""
    return [b for b in (clean_block(m) for m in _TAGGED.findall(text)) if b]


def parse_list(text: str) -> list[str]:
    """List items of a reply: tagged blocks, else numbered or bulleted lines, else the whole reply."""
    blocks = tagged_blocks(text)
    if blocks:
        return blocks
    text = _TAG.sub("", text)  # a stray tag is no item
    items = [m.strip() for m in re.findall(r"^\s*(?:\d+[.)]|[-*•])\s+(.+)$", text, re.M)]
    if items:
        return items
    return [text.strip()] if text.strip() else []
