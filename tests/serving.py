"""A real `behavopt serve` process on a free loopback port, for end-to-end tests of the OpenAI backend."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(args: list[str], log_dir: Path, timeout_s: float = 90) -> Iterator[str]:
    """Run `behavopt serve ARGS --port P` until the block ends; yields its base URL (http://127.0.0.1:P/v1).
    The log goes to a file: a pipe nobody reads would fill and block the server."""
    port = free_port()
    log_path = log_dir / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "behavopt.cli.main", "serve", *args, "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, text=True)
        base = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.time() + timeout_s
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"behavopt serve exited early: {log_path.read_text()[-2000:]}")
                if time.time() > deadline:
                    pytest.fail(f"behavopt serve did not answer within {timeout_s:.0f} s: "
                                f"{log_path.read_text()[-2000:]}")
                try:
                    if httpx.get(f"{base}/models", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
