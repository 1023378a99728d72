"""llama.cpp's own server behind an in-process model spec: `slots=N` (or `--slots N`) starts `llama-server` for the
model on a loopback port when it is first called, decodes up to N requests together, and stops it with the pool.

Decoding several requests in one batch answers more of them per second from the same cores, since generation on a
CPU is bound by reading the weights, which one batch reads once for all. The price is exactness: a request's
arithmetic depends on what it was batched with, so two identical runs can differ (bench/engine_speed.py counts it);
the response cache keeps reruns exact either way. The server routes each request to the slot whose prompt is most
like it, and keeps recent prompts in host memory, so prefixes are reused as in-process.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx

from behavopt.core.errors import ConfigError
from behavopt.lm.errors import LMError
from behavopt.lm.llama_backend import LlamaLoadParams
from behavopt.lm.markers import inert
from behavopt.lm.serve_process import free_port
from behavopt.lm.types import ChatRequest, Completion

# `make llama-server` builds it here (relative to the repository an editable install runs from).
_BUILT = Path(__file__).resolve().parents[3] / ".build" / "llama-server"


def find_llama_server(given: str | None = None) -> Path:
    """The llama-server binary: the one given (a path or a name on PATH), else $BEHAVOPT_LLAMA_SERVER, else
    `llama-server` on PATH, else the one `make llama-server` built."""
    candidates = [given] if given else [os.environ.get("BEHAVOPT_LLAMA_SERVER") or "", "llama-server", str(_BUILT)]
    for name in filter(None, candidates):
        found = shutil.which(name)  # a path as given, or a name on PATH; executables only
        if found:
            return Path(found)
    shown = given or "llama-server"
    raise ConfigError(f"llama-server binary not found or not executable: {shown}: build llama.cpp's server with "
                      "`make llama-server` (writes .build/llama-server) or set BEHAVOPT_LLAMA_SERVER to its path")


def llama_server_argv(binary: Path, path: Path, name: str, *, host: str, port: int, n_ctx: int,
                      threads: int | None, parallel: int) -> list[str]:
    # The context is shared by the slots: give each slot the window asked for.
    argv = [str(binary), "--model", str(path), "--alias", name, "--host", host, "--port", str(port),
            "--ctx-size", str(n_ctx * parallel), "--parallel", str(parallel), "--no-webui"]
    if threads:
        argv += ["--threads", str(threads), "--threads-batch", str(threads)]
    return argv


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux: the server gets SIGTERM when behavopt dies, even by SIGKILL, so no server outlives its run.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class LlamaServerBackend:
    """A model file served by a llama-server this backend starts and stops; it speaks to it through the OpenAI
    backend. Its identity differs from in-process llama.cpp's: batched answers are cached apart from exact ones."""

    def __init__(self, path: Path, *, file_sha256: str, name: str, params: LlamaLoadParams, slots: int,
                 binary: Path, start_timeout_s: float = 300):
        self.path = Path(path)
        self.name = name
        self.params = params
        self.max_concurrency = slots
        self.binary = binary
        self.identity = f"llama-server:{file_sha256}:ctx={params.n_ctx}"
        self.start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen | None = None
        self._client = None
        self._log: Path | None = None  # made when the server starts: a backend never called writes nothing
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LlamaServerBackend(model={self.name!r}, slots={self.max_concurrency})"

    def _log_tail(self, chars: int = 1500) -> str:
        try:
            return self._log.read_text(errors="replace")[-chars:].strip() if self._log else "(no log)"
        except OSError:
            return "(no log)"

    def _start(self) -> None:
        """Start the server and wait until it answers /health (the model is loaded then)."""
        with self._lock:
            if self._client is not None:
                return
            from behavopt.lm.openai_backend import OpenAIBackend

            port = free_port()
            argv = llama_server_argv(self.binary, self.path, self.name, host="127.0.0.1", port=port,
                                     n_ctx=self.params.n_ctx, threads=self.params.n_threads,
                                     parallel=self.max_concurrency)
            self._log = Path(tempfile.mkdtemp(prefix="behavopt-llama-server-")) / "server.log"
            with open(self._log, "w") as log:
                self._proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                              preexec_fn=_die_with_parent)
            deadline = time.monotonic() + self.start_timeout_s
            while not self._healthy(port):
                if self._proc.poll() is not None:
                    raise LMError(f"{self.name}: llama-server exited with code {self._proc.returncode} while "
                                  f"loading the model: {self._log_tail()}")
                if time.monotonic() > deadline:
                    self._stop()
                    raise LMError(f"{self.name}: llama-server did not load the model within "
                                  f"{self.start_timeout_s:.0f} s: {self._log_tail()}")
                time.sleep(0.25)
            self._client = OpenAIBackend(self.name, base_url=f"http://127.0.0.1:{port}/v1",
                                         max_concurrency=self.max_concurrency)

    @staticmethod
    def _healthy(port: int) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    async def complete(self, request: ChatRequest) -> Completion:
        if self._client is None:
            await asyncio.to_thread(self._start)
        assert self._client is not None
        # llama-server, like llama.cpp in-process, reads control tokens back out of the rendered chat text.
        messages = tuple(replace(m, content=inert(m.content)) for m in request.messages)
        return await self._client.complete(replace(request, messages=messages))

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()
        self._stop()
