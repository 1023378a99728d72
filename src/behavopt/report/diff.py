"""A child's prompt against its parent's, word by word, as HTML: removed words struck through, added words marked."""

from __future__ import annotations

import difflib
import re

from markupsafe import Markup, escape

_TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> Markup:
    """`after` against `before`: unchanged text as it is, removed text in <del>, added text in <ins> (escaped)."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(str(escape("".join(old[i1:i2]))))
            continue
        if op in ("delete", "replace"):
            parts.append(f"<del>{escape(''.join(old[i1:i2]))}</del>")
        if op in ("insert", "replace"):
            parts.append(f"<ins>{escape(''.join(new[j1:j2]))}</ins>")
    return Markup("".join(parts))


def changed_share(before: str, after: str) -> float:
    """How much of the text changed, 0 (same) to 1 (all new), over words."""
    ratio = difflib.SequenceMatcher(a=before.split(), b=after.split(), autojunk=False).ratio()
    return round(1 - ratio, 3)
