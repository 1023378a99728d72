"""RunDir: resume refuses other settings (a setting added after a run started counts as its default), every file is
written with its schema version and read back through its typed object, and an older config is upgraded."""

import json

import pytest

from behavopt.core.errors import ConfigError
from behavopt.core.schema import SchemaError
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.events import ErrorsShown, NoErrors, Started, TrainBatch
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import preset


def config(**overrides):
    return RunConfig(task="demo:navigate", method="apo", target="t", optimizer="o",
                     settings=preset("quick").with_overrides(**overrides))


def started(tmp_path, **overrides):
    rundir = RunDir(tmp_path / "run")
    rundir.prepare(config(**overrides), resume=False)
    rundir.save_checkpoint(SearchState(step=0))
    return rundir


def test_config_is_written_with_its_version_and_read_back_typed(tmp_path):
    rundir = started(tmp_path, steps=3)
    data = json.loads(rundir.config_path.read_text())
    assert data["schema_version"] == 1 and data["settings"]["search"]["steps"] == 3
    assert rundir.load_config() == config(steps=3)


def test_resume_with_other_settings_is_refused_naming_them(tmp_path):
    rundir = started(tmp_path, steps=2)
    with pytest.raises(ConfigError, match=r"other settings .*\(beam, steps\)"):
        rundir.prepare(config(steps=3, beam=1), resume=True)
    assert rundir.prepare(config(steps=2), resume=True).step == 0


def test_a_version_0_config_is_upgraded_and_a_setting_added_later_counts_as_its_default(tmp_path):
    rundir = RunDir(tmp_path / "run")
    rundir.path.mkdir()
    # Written before schema versions and before `error_source` existed: flat settings.
    flat = {k: v for k, v in preset("quick").flat().items() if k != "error_source"}
    old = {"task": "demo:navigate", "method": "apo", "target": "t", "optimizer": "o", "settings": flat,
           "base_url": None}
    rundir.config_path.write_text(json.dumps(old))
    rundir.save_checkpoint(SearchState(step=0))
    assert rundir.prepare(config(), resume=True).step == 0
    with pytest.raises(ConfigError, match=r"other settings .*\(error_source\)"):
        rundir.prepare(config(error_source="pseudo"), resume=True)
    assert json.loads(rundir.config_path.read_text()) == old  # the saved config is untouched


def test_a_newer_config_is_refused_in_one_line(tmp_path):
    rundir = started(tmp_path)
    data = json.loads(rundir.config_path.read_text())
    rundir.config_path.write_text(json.dumps({**data, "schema_version": 7}))
    with pytest.raises(SchemaError) as err:
        rundir.prepare(config(), resume=True)
    assert "schema_version 7" in str(err.value) and "\n" not in str(err.value)


def test_events_are_written_and_read_back_typed(tmp_path):
    rundir = started(tmp_path)
    events = [Started(config=config(), estimated_calls=12), TrainBatch(step=1, example_ids=("a", "b")),
              ErrorsShown(step=1, parent="c0000", example_ids=("b",), fake_answers=("7",)),
              NoErrors(step=1, parent="c0001")]
    for e in events:
        rundir.write_event(e)
    back = rundir.events()
    assert back == events and all(e.t is not None for e in back)
    lines = [json.loads(line) for line in rundir.events_path.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["started", "train_batch", "errors_shown", "no_errors"]
    assert lines[0]["schema_version"] == 1 and lines[0]["config"]["settings"]["search"]["steps"] == 2


def test_a_version_0_events_file_is_upgraded(tmp_path):
    rundir = started(tmp_path)
    old_config = {"task": "demo:navigate", "method": "apo", "target": "t", "optimizer": "o",
                  "settings": {"steps": 2, "beam": 3}, "base_url": None}
    lines = [{"t": 1.0, "type": "started", "config": old_config, "estimated_calls": 9},
             {"t": 2.0, "type": "pseudo_errors", "step": 1, "parent": "c0000", "example_ids": ["x"],
              "fake_answers": ["3"]},
             {"t": 2.0, "type": "errors_shown", "step": 1, "parent": "c0000", "example_ids": ["x"]}]
    rundir.events_path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    started_event, shown = rundir.events()
    assert isinstance(started_event, Started) and started_event.config.settings.search.beam == 3
    assert shown == ErrorsShown(step=1, parent="c0000", example_ids=("x",))


def test_an_event_of_unknown_type_is_refused_in_one_line(tmp_path):
    rundir = started(tmp_path)
    rundir.write_event(Started(config=config(), estimated_calls=1))
    with open(rundir.events_path, "a") as f:
        f.write(json.dumps({"t": 1.0, "type": "teleported", "step": 1}) + "\n")
    with pytest.raises(SchemaError, match="unknown type 'teleported'"):
        rundir.events()


def test_a_half_written_last_event_line_is_cut_on_resume(tmp_path):
    rundir = started(tmp_path)
    rundir.write_event(Started(config=config(), estimated_calls=1))
    with open(rundir.events_path, "a") as f:
        f.write('{"t": 1.0, "type": "no_err')
    rundir.prepare(config(), resume=True)
    assert [type(e) for e in rundir.events()] == [Started]



def test_a_second_process_writing_the_same_run_directory_is_refused(tmp_path):
    import subprocess
    import sys
    import time

    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom behavopt.optimizers.rundir import RunDir\n"
                               "with RunDir(sys.argv[1]).exclusive():\n    print('held', flush=True)\n"
                               "    time.sleep(30)\n", str(tmp_path / "run")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ConfigError, match=rf"in use by another behavopt process \(pid {holder.pid}\)"):
            with RunDir(tmp_path / "run").exclusive():
                pass
    finally:
        holder.kill()
        holder.wait()
    start = time.monotonic()
    with RunDir(tmp_path / "run").exclusive():  # a killed holder leaves nothing to clean up
        assert time.monotonic() - start < 5


def test_a_run_refused_before_it_wrote_anything_leaves_no_directory(tmp_path):
    with pytest.raises(ConfigError, match="nothing to resume"):
        with RunDir(tmp_path / "new").exclusive():
            RunDir(tmp_path / "new").prepare(config(), resume=True)
    assert not (tmp_path / "new").exists()
