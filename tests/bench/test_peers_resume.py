"""bench/peers.py --resume: which rows of an earlier run are kept (no models, no peers needed)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from tests.bench.helpers import load_peers

harness = importlib.import_module("harness")  # bench/ is on sys.path once helpers is imported


@pytest.fixture(scope="module")
def peers():
    return load_peers()


META = {"target": "t", "optimizer": "o", "preset": "quick", "seed": 0, "max_calls": 300, "fanout_n": True}


def written(tmp_path: Path, content: dict) -> Path:
    """The results file as peers.py writes it (through the harness, content beside its meta block)."""
    stem = harness.write_results("peers", content, "table", results_dir=tmp_path)
    return stem.with_name(stem.name + ".json")


def test_resume_keeps_finished_rows_and_drops_failed_ones(peers, tmp_path):
    rows = [{"task": "bbh:navigate", "system": "apo", "error": None},
            {"task": "bbh:navigate", "system": "gepa", "error": "TimeoutError: read timed out"}]
    path = written(tmp_path, {**META, "sizes": [30, 25, 50], "rows": rows})
    assert peers.finished_rows(path, {**META, "sizes": None}) == rows[:1]
    assert peers.finished_rows(tmp_path / "absent.json", META) == []


def test_resume_reads_a_file_written_before_the_harness(peers, tmp_path):
    path = tmp_path / "peers.json"
    rows = [{"task": "bbh:navigate", "system": "apo", "error": None}]
    path.write_text(json.dumps({**META, "sizes": [30, 25, 50], "rows": rows}))
    assert peers.finished_rows(path, META) == rows


def test_resume_refuses_rows_run_with_other_settings(peers, tmp_path):
    path = written(tmp_path, {**META, "rows": [{"task": "bbh:navigate", "system": "apo", "error": None}]})
    with pytest.raises(ValueError, match=r"was run with max_calls 300, not 600; give the same settings"):
        peers.finished_rows(path, {**META, "max_calls": 600})
