"""ServeProcess: failures to start are errors that carry the server's own words, and no process is left behind.
(A real server answering through it is covered by tests/lm/test_local_e2e.py and tests/cli/test_serve_cli.py.)"""

from __future__ import annotations

import sys

import pytest

from behavopt.lm.serve_process import ServeProcess, ServerStartError


class SilentProcess(ServeProcess):
    """Runs but never answers HTTP: stands in for a server stuck loading its model."""

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-c", "import time; print('loading...', flush=True); time.sleep(60)"]


def test_a_server_that_exits_raises_with_its_log_tail(tmp_path):
    server = ServeProcess(["nosuchkind:model"], tmp_path / "serve.log")
    with pytest.raises(ServerStartError) as info:
        with server:
            pass
    assert "exited with code 2" in str(info.value) and "nosuchkind" in str(info.value)


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path):
    server = SilentProcess([], tmp_path / "serve.log")
    server.launch()
    proc = server._proc
    with pytest.raises(ServerStartError) as info:
        server.wait_ready(timeout_s=1, poll_s=0.1)
    assert "did not answer within 1 s" in str(info.value) and "loading..." in str(info.value)
    assert proc is not None and proc.poll() is not None  # stopped, not left running
    server.stop()  # a second stop is harmless


def test_waiting_before_launch_is_a_programming_error(tmp_path):
    with pytest.raises(RuntimeError, match="launch"):
        ServeProcess([], tmp_path / "serve.log").wait_ready(timeout_s=1)
