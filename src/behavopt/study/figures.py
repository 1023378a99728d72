"""PNG figures for study reports: curves with 95% bands, and bars with error bars and a reference line.

matplotlib (the `study` extra) is imported inside the functions, and figures are drawn on a bare
`matplotlib.figure.Figure` with the Agg canvas, never through pyplot: nothing is registered in pyplot's figure list,
the process-wide backend is left alone, and nothing leaks between calls. Files are written atomically (a temporary
file in the same folder, then a rename), so a report never links to a half-written image.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from behavopt.core.errors import ConfigError

SIZE_IN = (6.0, 4.0)
DPI = 100
MISSING_EXTRA = "matplotlib is not installed: run pip install 'behavopt[study]'"

# (x, mean, lo, hi); lo/hi None -> no band at that point.
CurvePoint = tuple[float, float, Optional[float], Optional[float]]
# (label, mean, lo, hi); lo/hi None -> no error bar.
Bar = tuple[str, float, Optional[float], Optional[float]]


def _new_figure() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ConfigError(MISSING_EXTRA) from exc
    fig = Figure(figsize=SIZE_IN, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="png", dpi=DPI)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def curve_figure(path: str | os.PathLike[str], title: str, xlabel: str, ylabel: str,
                 series: Mapping[str, Sequence[CurvePoint]]) -> Path:
    """One line per series (markers at the points, sorted by x) with its 95% interval shaded where lo and hi are
    both given; points without an interval are skipped by the band only. Returns the written path."""
    if not series:
        raise ValueError("curve_figure: no series to draw")
    fig, ax = _new_figure()
    for name, points in series.items():
        pts = sorted(points, key=lambda p: p[0])
        if not pts:
            continue
        xs = [float(p[0]) for p in pts]
        line, = ax.plot(xs, [float(p[1]) for p in pts], marker="o", markersize=3, label=name)
        banded = [p for p in pts if p[2] is not None and p[3] is not None]
        if banded:
            ax.fill_between([float(p[0]) for p in banded], [float(p[2]) for p in banded],
                            [float(p[3]) for p in banded], color=line.get_color(), alpha=0.2, linewidth=0)
    if all(float(p[0]).is_integer() for points in series.values() for p in points):
        from matplotlib.ticker import MaxNLocator
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps, seeds: no 1.25 ticks
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return _save(fig, path)


def bar_figure(path: str | os.PathLike[str], title: str, ylabel: str, bars: Sequence[Bar],
               reference: float | None = None, reference_label: str = "") -> Path:
    """Bars of means with 95% error bars where lo and hi are given, and an optional dashed horizontal reference line
    (e.g. the 50% a claim is tested against). Returns the written path."""
    if not bars:
        raise ValueError("bar_figure: no bars to draw")
    fig, ax = _new_figure()
    xs = list(range(len(bars)))
    means = [float(b[1]) for b in bars]
    ax.bar(xs, means, color="tab:blue", alpha=0.8)
    for x, (_, mean, lo, hi) in zip(xs, bars):
        if lo is not None and hi is not None:
            ax.errorbar([x], [mean], yerr=[[mean - float(lo)], [float(hi) - mean]], fmt="none", ecolor="black",
                        capsize=4, linewidth=1)
    ax.set_xticks(xs)
    ax.set_xticklabels([b[0] for b in bars], rotation=20 if len(bars) > 4 else 0, ha="right" if len(bars) > 4 else
                       "center", fontsize="small")
    if reference is not None:
        ax.axhline(float(reference), color="tab:red", linestyle="--", linewidth=1,
                   label=reference_label or None)
        if reference_label:
            ax.legend(fontsize="small")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
