"""bench/study.py's preset overrides: checked before the hours of runs start."""

from __future__ import annotations

import pytest

from tests.bench.helpers import load_bench


def test_overrides_parse_to_ints():
    study = load_bench("study")
    assert study.parse_overrides(["dev_size=15", "test_size=30"], "quick") == {"dev_size": 15, "test_size": 30}
    assert study.parse_overrides([], "quick") == {}


@pytest.mark.parametrize("item, named", [("dev_size", "KEY=INT"), ("dev_size=abc", "KEY=INT"),
                                         ("dev_sise=15", "dev_sise")])
def test_bad_override_stops_with_the_problem_named(item, named):
    with pytest.raises(SystemExit, match=named):
        load_bench("study").parse_overrides([item], "quick")
