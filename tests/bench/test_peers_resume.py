"""bench/peers.py --resume: which rows of an earlier run are kept (no models, no peers needed)."""

from __future__ import annotations

import json

import pytest

from tests.bench.helpers import load_peers


@pytest.fixture(scope="module")
def peers():
    return load_peers()


META = {"target": "t", "optimizer": "o", "preset": "quick", "seed": 0, "max_calls": 300, "fanout_n": True}


def test_resume_keeps_finished_rows_and_drops_failed_ones(peers, tmp_path):
    path = tmp_path / "peers.json"
    rows = [{"task": "bbh:navigate", "system": "apo", "error": None},
            {"task": "bbh:navigate", "system": "gepa", "error": "TimeoutError: read timed out"}]
    path.write_text(json.dumps({**META, "sizes": [30, 25, 50], "rows": rows}))
    assert peers.finished_rows(path, {**META, "sizes": None}) == rows[:1]
    assert peers.finished_rows(tmp_path / "absent.json", META) == []


def test_resume_refuses_rows_run_with_other_settings(peers, tmp_path):
    path = tmp_path / "peers.json"
    path.write_text(json.dumps({**META, "rows": [{"task": "bbh:navigate", "system": "apo", "error": None}]}))
    with pytest.raises(ValueError, match=r"was run with max_calls 300, not 600; give the same settings"):
        peers.finished_rows(path, {**META, "max_calls": 600})
