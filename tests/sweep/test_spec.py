"""A sweep file read, checked before any run, and crossed into named runs."""

from __future__ import annotations

import pytest

from behavopt.core.errors import ConfigError
from behavopt.sweep.spec import load_sweep

GOOD = """tasks: [bbh:object_counting, bbh:navigate]
methods: [apo, abo]
seeds: [0, 1, 2]
target: local:qwen2.5-coder-1.5b
optimizer: local:qwen2.5-coder-1.5b
settings: {preset: quick, max_calls: 1200}
"""


def write(tmp_path, text):
    path = tmp_path / "sweep.yaml"
    path.write_text(text)
    return path


def test_the_cross_product_is_named_and_keeps_its_settings(tmp_path):
    spec = load_sweep(write(tmp_path, GOOD))
    runs = spec.runs()
    assert len(runs) == 12 and len({r.name for r in runs}) == 12
    assert runs[0].name == "bbh_object_counting-apo-s0" and runs[-1].name == "bbh_navigate-abo-s2"
    assert all(r.preset == "quick" and r.settings == {"max_calls": 1200} for r in runs)
    settings = spec.run_settings(runs[5])
    assert settings.budget.max_calls == 1200 and settings.data.seed == runs[5].seed == 2
    assert settings.search.steps == 2  # the quick preset's


def test_several_targets_are_crossed_and_named(tmp_path):
    spec = load_sweep(write(tmp_path, GOOD.replace("target: local:qwen2.5-coder-1.5b",
                                                   "target: [local:smollm2-135m, 'openai:m?base_url=http://h:1/v1']")))
    names = [r.name for r in spec.runs()]
    assert len(names) == 24 and "bbh_navigate-abo-s1-local_smollm2-135m" in names
    assert "bbh_navigate-abo-s1-openai_m_base_url_http_h_1_v1" in names


@pytest.mark.parametrize("change, message", [
    (("seeds: [0, 1, 2]", "seeds: []"), "'seeds' is empty"),
    (("methods: [apo, abo]", "methods: [apo, apo]"), "'methods' names a value twice"),
    (("methods: [apo, abo]", "methods: [apo, gepa]"), "unknown method(s) gepa"),
    (("max_calls: 1200", "max_calls: 1200, beem: 3"), "unknown setting(s) ['beem']"),
    (("preset: quick", "preset: huge"), "unknown preset 'huge'"),
    (("max_calls: 1200", "max_calls: 1200, seed: 3"), "'seed' belongs in 'seeds'"),
    (("optimizer: local:qwen2.5-coder-1.5b\n", ""), "missing optimizer"),
    (("settings:", "setings:"), "unknown field(s) setings"),
    (("seeds: [0, 1, 2]", "seeds: [zero]"), "at seeds.0"),
    (("tasks: [bbh:object_counting, bbh:navigate]", "tasks: [bbh:object_counting"), "not valid YAML (line"),
])
def test_a_bad_sweep_file_is_one_line_naming_the_problem(tmp_path, change, message):
    old, new = change
    with pytest.raises(ConfigError) as info:
        load_sweep(write(tmp_path, GOOD.replace(old, new)))
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found: pass the sweep's YAML file"):
        load_sweep(tmp_path / "nope.yaml")
