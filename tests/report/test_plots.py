"""The figures are inline SVG that need nothing from the network, and the same data draws the same SVG."""

import math

from behavopt.report import plots


def test_the_same_data_draws_the_same_svg():
    curve, points = [0.4, 0.5, math.nan, 0.6], [(0, 0.4, False), (1, 0.5, False), (1, 0.2, True), (3, 0.6, False)]
    first = plots.dev_per_step(curve, points)
    assert first == plots.dev_per_step(curve, points) and first.startswith("<svg")
    assert "<metadata" not in first and "href=\"http" not in first


def test_bars_and_curves_draw_one_mark_per_value():
    svg = plots.bars(["1", "2", "3"], [0.5, 1.0, 0.25], ylabel="share", limit=1.0)
    assert svg.startswith("<svg") and svg.count('id="patch_') >= 3
    assert plots.curves({"a": [0.1, 0.2], "b": [0.3, math.nan]}).count("<path") >= 2
