"""The reports of a real small study (SmolLM2) and of its real runs, opened in headless Chromium: no console error,
nothing fetched from the network, the plots, the lineage tree and the tables present, and a screenshot saved (under
$BEHAVOPT_SCREENSHOTS as well, where set, to look at)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.report.browser import chromium, open_page

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(chromium() is None, reason="chromium is not installed (make test "
                                                                              "installs Debian's chromium package)")]


def shot(tmp_path: Path, name: str) -> Path:
    return tmp_path / f"{name}.png"


def keep(screenshot: Path) -> None:
    where = os.environ.get("BEHAVOPT_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(where) / screenshot.name)


@pytest.mark.parametrize("body, seen", [
    ("<script>notDefined();</script>", "console"),
    ('<img src="http://example.com/x.png">', "requests"),
])
def test_the_check_sees_a_console_error_and_a_network_request(tmp_path, body, seen):
    page = tmp_path / "bad.html"
    page.write_text(f"<html><body><p>x</p>{body}</body></html>")
    opened = open_page(page, shot(tmp_path, "bad"))
    assert getattr(opened, seen) and not getattr(opened, "requests" if seen == "console" else "console")


@pytest.mark.parametrize("which", ["run", "study"])
def test_a_real_report_opens_clean_with_its_plots_tree_and_tables(small_study, tmp_path, which):
    study, _ = small_study
    path = study / "runs" / "abo-s0" / "report.html" if which == "run" else study / "report.html"
    screenshot = shot(tmp_path, f"{which}-report")
    page = open_page(path, screenshot)
    assert page.console == [] and page.requests == []
    if which == "run":
        for part in ('id="dev-plot"', 'id="lineage-tree"', 'id="examples-table"', 'id="outcome"', 'id="cost"'):
            assert part in page.dom, part
        assert page.dom.count("<svg") >= 1 and page.dom.count('class="node"') >= 1
    else:
        assert 'id="findings-table"' in page.dom and page.dom.count("data:image/png;base64,") >= 4
        assert 'href="runs/abo-s0/report.html"' in page.dom
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    keep(screenshot)


def test_abos_charts_render_in_the_browser(finished_run, tmp_path):
    """SmolLM2 seldom writes a procedure that passes ABO's checks (the small study's ABO run may hold none), so
    ABO's charts are opened here from a run the real engine made with scripted models."""
    from behavopt.report.run import write_run_report

    screenshot = shot(tmp_path, "abo-report")
    page = open_page(write_run_report(finished_run("abo", steps=1)), screenshot)
    assert page.console == [] and page.requests == []
    assert 'id="adherence-plot"' in page.dom and page.dom.count("<svg") >= 2 and 'id="behavior"' in page.dom
    keep(screenshot)
