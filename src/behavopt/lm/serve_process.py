"""A `behavopt serve` child process on a loopback port: started, waited for, stopped.

One helper for everything that needs a real OpenAI-compatible server for a while (benchmarks, end-to-end tests), so
that readiness, logging and shutdown behave the same everywhere."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


class ServerStartError(RuntimeError):
    """The server exited or did not answer in time; the message ends with the tail of its log."""


def free_port() -> int:
    """A loopback port that was free a moment ago (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_models(base_url: str) -> bool:
    """Does the OpenAI-compatible server at base_url (…/v1) list its models yet?"""
    try:
        return httpx.get(f"{base_url.rstrip('/')}/models", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


class ServeProcess:
    """`behavopt serve ARGS --port PORT`, its output in `log_path` (a pipe nobody reads would fill and block it).

    `launch()` and `wait_ready()` are separate so that several servers can load their models at the same time;
    as a context manager it does both and stops the server at the end of the block."""

    def __init__(self, args: list[str], log_path: Path, port: int | None = None):
        self.args = list(args)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._proc: subprocess.Popen | None = None

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "behavopt.cli.main", "serve", *self.args, "--port", str(self.port)]

    def launch(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "w") as log:  # the child keeps its own handle
            self._proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout_s: float = 180, poll_s: float = 0.5) -> str:
        """Block until GET /v1/models answers 200; returns the base URL (…/v1)."""
        if self._proc is None:
            raise RuntimeError("launch() the server before waiting for it")
        deadline = time.monotonic() + timeout_s
        while True:
            if self._proc.poll() is not None:
                raise ServerStartError(f"behavopt serve exited with code {self._proc.returncode}: {self.log_tail()}")
            if answers_models(self.base_url):
                return self.base_url
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"behavopt serve did not answer within {timeout_s:.0f} s: {self.log_tail()}")
            time.sleep(poll_s)

    def stop(self, grace_s: float = 30) -> None:
        """Terminate, and kill if it has not exited after `grace_s`. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def __enter__(self) -> str:
        self.launch()
        try:
            return self.wait_ready()
        except BaseException:  # Ctrl-C while the model loads: leave no server behind
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
