"""In-process inference with llama-cpp-python for `local:` and `gguf:` models.

One loaded model per (file, load parameters) per process, all its calls run on one dedicated thread (see
`ModelSlot`). The chat template is the one stored in the GGUF file.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from behavopt.core.errors import ConfigError
from behavopt.lm.errors import LMContextOverflow, LMError
from behavopt.lm.types import ChatRequest, Completion

T = TypeVar("T")

_SLOTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class LlamaLoadParams:
    n_ctx: int = 4096
    n_threads: int | None = None  # None: all cores
    n_gpu_layers: int = 0
    n_batch: int = 512

    def threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1


_LLAMA_THREAD: ThreadPoolExecutor | None = None


def llama_thread() -> ThreadPoolExecutor:
    """The one thread that runs every llama.cpp call of this process, for every model.

    Always the same thread: llama.cpp's OpenMP team belongs to the calling thread, and calls from a second thread
    (another model, or a thread pool's next worker) run 50-60 % slower on 2 cores (bench/lm_overhead.py). One
    thread also serialises calls, since a llama.cpp context is not safe to share between threads.
    """
    global _LLAMA_THREAD
    with _SLOTS_LOCK:
        if _LLAMA_THREAD is None:
            _LLAMA_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="behavopt-llama")
        return _LLAMA_THREAD


class ModelSlot:
    """One GGUF with its load parameters, loaded on first use on the llama thread."""

    def __init__(self, path: Path, params: LlamaLoadParams):
        self.path = path
        self.params = params
        self._llama: Any = None

    def llama(self) -> Any:
        """The loaded model; call only on the llama thread."""
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as err:  # pragma: no cover - depends on the install
                raise ConfigError("llama-cpp-python is not installed: install behavopt with the local extra "
                                  "(pip install 'behavopt[local]'), or run `make setup`") from err
            p = self.params
            self._llama = Llama(model_path=str(self.path), n_ctx=p.n_ctx, n_threads=p.threads(),
                                n_threads_batch=p.threads(), n_gpu_layers=p.n_gpu_layers, n_batch=p.n_batch,
                                verbose=False)
        return self._llama

    async def call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(llama_thread(), fn)


_SLOTS: dict[tuple[str, LlamaLoadParams], ModelSlot] = {}


def model_slot(path: Path, params: LlamaLoadParams) -> ModelSlot:
    """One slot (so one loaded model) per file and load parameters per process."""
    key = (str(Path(path).resolve()), params)
    with _SLOTS_LOCK:
        if key not in _SLOTS:
            _SLOTS[key] = ModelSlot(Path(path), params)
        return _SLOTS[key]


def _sample_seed(request: ChatRequest) -> int:
    # Distinct samples of one request need distinct seeds, reproducibly.
    base = 0 if request.seed is None else request.seed
    return (base * 1_000_003 + request.sample) & 0x7FFFFFFF


class LlamaCppBackend:
    max_concurrency = 1

    def __init__(self, path: Path, *, file_sha256: str, name: str, params: LlamaLoadParams | None = None):
        self.path = Path(path)
        self.params = params or LlamaLoadParams()
        self.name = name
        # Thread count and batch size do not change greedy outputs meaningfully; the context size can (truncation).
        self.identity = f"llama.cpp:{file_sha256}:ctx={self.params.n_ctx}"
        self.slot = model_slot(self.path, self.params)

    def _run(self, request: ChatRequest) -> Completion:
        llama = self.slot.llama()
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        kwargs: dict[str, Any] = dict(messages=messages, temperature=request.temperature, top_p=request.top_p,
                                      max_tokens=request.max_tokens, seed=_sample_seed(request),
                                      stop=list(request.stop) or None)
        start = time.perf_counter()
        try:
            out = llama.create_chat_completion(**kwargs)
        except ValueError as err:
            if "context window" in str(err) or "exceed" in str(err):
                raise LMContextOverflow(f"{self.name}: {err}") from err
            raise LMError(f"{self.name}: {err}") from err
        except RuntimeError as err:
            raise LMError(f"{self.name}: {err}") from err
        latency = time.perf_counter() - start
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(text=choice["message"].get("content") or "",
                          finish_reason=choice.get("finish_reason") or "stop",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          latency_s=latency)

    async def complete(self, request: ChatRequest) -> Completion:
        return await self.slot.call(lambda: self._run(request))

    async def aclose(self) -> None:
        # Loaded models stay for the life of the process: other clients may share them.
        return None
