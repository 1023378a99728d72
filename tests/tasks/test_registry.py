"""Task specs: dispatch, data-folder resolution, helpful errors, and a light package import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from behavopt.core.errors import TaskError
from behavopt.tasks import Task, known_tasks, load_task


def _message(spec: str, **kwargs) -> str:
    with pytest.raises(TaskError) as info:
        load_task(spec, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("spec", ["foo:bar", "navigate", "", "   ", "bbh-navigate"])
def test_unknown_task_lists_the_loaders(spec: str) -> None:
    message = _message(spec)
    assert "unknown task" in message
    for form in ("bbh:NAME", "bigbench:NAME", "gsm8k", "ii:NAME", "cls:", "hf:NAME", "demo:", ".yaml"):
        assert form in message


def test_data_dir_not_set() -> None:
    message = _message("bbh:navigate")
    assert "no data folder is set" in message and "BEHAVOPT_DATA" in message and "--data-dir" in message


def test_data_dir_missing(tmp_path: Path) -> None:
    message = _message("gsm8k", data_dir=tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in message and "BEHAVOPT_DATA" in message


def test_env_data_dir_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BEHAVOPT_DATA", str(tmp_path))
    message = _message("bbh:navigate")
    assert str(tmp_path / "bbh") in message  # looked in the env folder


def test_name_required() -> None:
    assert "names no bbh task: use bbh:NAME" in _message("bbh:")


def test_data_file_is_not_a_task_file(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text("{}\n")
    assert "must be a .yaml or .yml task description" in _message(str(path))


def test_demo_tasks_need_no_data() -> None:
    task = load_task("demo:object-counting")
    assert isinstance(task, Task) and task.name == "demo:object-counting"


def test_known_tasks_without_data() -> None:
    assert known_tasks() == ["demo:object-counting", "demo:navigate", "demo:arithmetic"]


def test_known_tasks_with_data(bench: Path) -> None:
    specs = known_tasks(bench)
    assert "bbh:navigate" in specs and "bigbench:question_selection" in specs and "gsm8k:test" in specs
    assert "ii:antonyms" in specs and "cls:agnews:test" in specs and "cls:sst2:test" not in specs
    assert len(specs) == 3 + 21 + 1 + 2 + 21 + 4


def test_every_known_task_loads(bench: Path) -> None:
    for spec in known_tasks(bench):
        task = load_task(spec, data_dir=bench)
        assert task.examples and task.instruction and task.description, spec
        assert len({e.id for e in task.examples}) == len(task.examples), spec


def test_import_is_light() -> None:
    code = ("import sys, behavopt.tasks; heavy = [m for m in ('datasets', 'yaml', 'pyarrow', 'numpy') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
