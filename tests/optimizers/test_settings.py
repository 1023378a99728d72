"""Run settings: declared once in groups, overridden by flat name, checked on construction, and presets."""

import pytest

from behavopt.core.errors import ConfigError
from behavopt.optimizers.settings import PRESETS, RunSettings, preset, settings_from_v0


def test_settings_declarations_are_the_one_source_of_names_and_flags():
    declared = RunSettings.declared()
    flats = [d.flat for d in declared]
    assert len(flats) == len(set(flats)) and len({d.flag for d in declared}) == len(declared)
    assert {"abo_demo", "mcts_depth", "ucb_rounds", "steps", "seed", "max_calls"} <= set(flats)
    assert "mcts_iterations" not in flats  # tree search takes `steps` like every strategy
    assert next(d for d in declared if d.flat == "abo_demo").flag == "--demo/--no-demo"
    assert all(d.help for d in declared)


def test_overrides_go_to_their_group_and_none_leaves_a_setting():
    s = RunSettings().with_overrides(steps=3, abo_demo=False, mcts_depth=2, ucb_rounds=7, seed=5, beam=None)
    assert (s.search.steps, s.abo.demo, s.mcts.depth, s.ucb.rounds, s.data.seed) == (3, False, 2, 7, 5)
    assert s.search.beam == RunSettings().search.beam
    assert s.flat()["abo_demo"] is False and s.with_overrides() == s


@pytest.mark.parametrize("overrides, message", [
    ({"stepz": 2}, r"unknown setting\(s\) \['stepz'\]"),
    ({"beam": 0}, r"setting beam=0 is out of range: use 1 or more"),
    ({"mcts_depth": 0}, r"setting mcts_depth=0 is out of range"),
    ({"abo_rendering": "html"}, r"setting abo_rendering='html' is unknown: use turns or system"),
    ({"selection": "greedy"}, r"use full or ucb"),
    ({"error_source": "fake"}, r"use real or pseudo"),
])
def test_bad_settings_are_refused_in_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        RunSettings().with_overrides(**overrides)


def test_presets():
    quick = preset("quick")
    assert quick.search.steps == 2 and quick.data.test_size == 50 and quick.mcts.width == 2
    assert preset("default") == RunSettings() and set(PRESETS) == {"default", "quick"}
    with pytest.raises(ConfigError, match="unknown preset 'huge'"):
        preset("huge")


def test_version_0_flat_settings_go_to_their_groups():
    nested = settings_from_v0({"steps": 2, "abo_demo": False, "mcts_iterations": 6, "gone": 1}, "abo")
    assert nested == {"search": {"steps": 2}, "abo": {"demo": False}}
    assert settings_from_v0({"steps": 2, "mcts_iterations": 6}, "promptagent") == {"search": {"steps": 6}}
