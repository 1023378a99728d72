"""RunDir.prepare: resume refuses other settings, but a setting added after a run started counts as its default."""

import json

import pytest

from behavopt.errors import ConfigError
from behavopt.runs.rundir import RunDir


def started(tmp_path, settings):
    rundir = RunDir(tmp_path / "run")
    rundir.prepare({"method": "apo", "settings": settings}, resume=False)
    rundir.save_checkpoint({"step": 0})
    return rundir


def test_resume_with_other_settings_is_refused(tmp_path):
    rundir = started(tmp_path, {"steps": 2})
    with pytest.raises(ConfigError, match=r"other settings .*\(settings\)"):
        rundir.prepare({"method": "apo", "settings": {"steps": 3}}, resume=True)


def test_a_setting_added_later_counts_as_its_default(tmp_path):
    rundir = started(tmp_path, {"steps": 2})  # written before `error_source` existed
    config = {"method": "apo", "settings": {"steps": 2, "error_source": "real"}}
    assert rundir.prepare(config, resume=True, setting_defaults={"steps": 10, "error_source": "real"}) == {"step": 0}
    # ...but not when the new setting is asked with another value than the default the old run ran with.
    other = {"method": "apo", "settings": {"steps": 2, "error_source": "pseudo"}}
    with pytest.raises(ConfigError, match="other settings"):
        rundir.prepare(other, resume=True, setting_defaults={"steps": 10, "error_source": "real"})
    assert json.loads(rundir.config_path.read_text())["settings"] == {"steps": 2}  # the saved config is untouched
