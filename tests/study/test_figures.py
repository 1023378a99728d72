import pytest

pytest.importorskip("matplotlib", reason="the `study` extra is not installed")

from behavopt.study.figures import bar_figure, curve_figure  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5000  # a drawn 600x400 figure, not an empty image
    # 600x400 pixels: width and height in the IHDR chunk.
    assert int.from_bytes(data[16:20], "big") == 600 and int.from_bytes(data[20:24], "big") == 400
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_curve_figure_with_bands(tmp_path):
    out = tmp_path / "deep" / "er" / "curve.png"
    written = curve_figure(out, "ASRR by step", "step", "repetition rate", {
        "APO": [(2, 0.55, 0.45, 0.65), (1, 0.3, 0.2, 0.4), (3, 0.6, 0.5, 0.7)],
        "ProTeGi": [(1, 0.25, None, None), (2, 0.4, 0.3, 0.5), (3, 0.5, 0.4, 0.6)],
    })
    assert written == out
    assert_png(out)


def test_curve_figure_without_bands_overwrites(tmp_path):
    out = tmp_path / "curve.png"
    out.write_bytes(b"old")
    curve_figure(out, "t", "x", "y", {"only": [(0, 1.0, None, None), (1, 2.0, None, None)]})
    assert_png(out)


def test_bar_figure_with_error_bars_and_reference(tmp_path):
    out = tmp_path / "figs" / "bars.png"
    bar_figure(out, "Feedback on pseudo errors", "share", [("real", 0.62, 0.5, 0.74), ("pseudo", 0.58, 0.45, 0.7)],
               reference=0.5, reference_label="50%")
    assert_png(out)


def test_bar_figure_without_error_bars_or_reference(tmp_path):
    out = tmp_path / "bars.png"
    bar_figure(out, "t", "y", [("a", 1.0, None, None), ("b", 2.0, None, None), ("c", 0.5, 0.4, 0.6)])
    assert_png(out)


def test_figures_leave_pyplot_alone(tmp_path):
    import sys
    curve_figure(tmp_path / "c.png", "t", "x", "y", {"s": [(0, 1.0, 0.5, 1.5)]})
    if "matplotlib.pyplot" in sys.modules:  # imported by something else: at least no figure was registered there
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_empty_input_is_rejected(tmp_path):
    with pytest.raises(ValueError):
        curve_figure(tmp_path / "c.png", "t", "x", "y", {})
    with pytest.raises(ValueError):
        bar_figure(tmp_path / "b.png", "t", "y", [])
