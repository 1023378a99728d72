"""The reports' figures, drawn with matplotlib's object API (no pyplot state, no backend chosen at import) and
returned as inline SVG, so a report needs no file beside it and no network to show them. matplotlib is imported when
a figure is drawn: importing it writes its font cache under the user's home, and importing behavopt writes nothing."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations
    from matplotlib.figure import Figure

WIDTH_IN, HEIGHT_IN = 6.4, 2.8
# Text kept as text (smaller, selectable) and element ids fixed, so the same run draws the same SVG.
_RC = {"svg.fonttype": "none", "svg.hashsalt": "behavopt", "font.size": 9}


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    # No metadata block: no date (the same run draws the same SVG), no creator links.
    fig.savefig(buffer, format="svg", bbox_inches="tight",
                metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: without the XML declaration and doctype


def _figure(height_in: float = HEIGHT_IN) -> tuple[Figure, Any]:
    """A figure and its one axes (call inside rc_context(_RC): the settings are read when drawing and saving)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_IN, height_in))
    return fig, fig.subplots()


def dev_per_step(curve: Sequence[float], points: Sequence[tuple[int, float, bool]]) -> str:
    """Best dev score so far after each step (the line), and each candidate's dev score at the step it was made (dots;
    hollow where it was scored on part of dev only)."""
    from matplotlib import rc_context

    with rc_context(_RC):
        fig, ax = _figure()
        steps = [k for k, v in enumerate(curve) if not math.isnan(v)]
        ax.plot(steps, [curve[k] for k in steps], drawstyle="steps-post", color="#1f77b4", linewidth=2,
                label="best dev so far")
        full = [(s, v) for s, v, partial in points if not partial]
        part = [(s, v) for s, v, partial in points if partial]
        if full:
            ax.scatter(*zip(*full), s=14, color="#555", alpha=0.6, label="candidate (all of dev)", zorder=3)
        if part:
            ax.scatter(*zip(*part), s=14, facecolors="none", edgecolors="#999", label="candidate (part of dev)",
                       zorder=3)
        ax.set_xlabel("step")
        ax.set_ylabel("dev score")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xticks(range(len(curve)))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        return _svg(fig)


def bars(labels: Sequence[str], values: Sequence[float], *, ylabel: str, limit: float | None = None,
         color: str = "#1f77b4") -> str:
    """One bar per label (ABO's steps: the share of outputs that wrote each, or the errors localised to each)."""
    from matplotlib import rc_context

    with rc_context(_RC):
        fig, ax = _figure(height_in=2.0)
        ax.bar(range(len(values)), values, color=color)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylabel(ylabel)
        if limit is not None:
            ax.set_ylim(0, limit)
        ax.grid(axis="y", alpha=0.3)
        return _svg(fig)


def curves(named: Mapping[str, Sequence[float]]) -> str:
    """Several runs' best dev score so far per step, one line each (compare)."""
    from matplotlib import rc_context

    with rc_context(_RC):
        fig, ax = _figure()
        for name, curve in named.items():
            steps = [k for k, v in enumerate(curve) if not math.isnan(v)]
            ax.plot(steps, [curve[k] for k in steps], drawstyle="steps-post", marker="o", markersize=3,
                    linewidth=1.5, label=name)
        ax.set_xlabel("step")
        ax.set_ylabel("best dev score so far")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
        return _svg(fig)
