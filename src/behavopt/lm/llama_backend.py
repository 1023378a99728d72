"""In-process inference with llama-cpp-python for `local:` and `gguf:` models.

One loaded model per (file, load parameters, context name) per process, all calls run on one dedicated thread (see
`ModelSlot`). The chat template is the one stored in the GGUF file.

llama.cpp reuses a prompt's prefix only against what its context holds now, so each role gets a context of its own
(an optimizer call does not evict the target's prefix), and each context keeps the states of its recent prompts
(llama-cpp-python's LRU state cache, with `prefix_caching_llama`'s lighter states): a prompt that starts like one
seen a few calls ago restores that state instead of recomputing it.
"""

from __future__ import annotations

import asyncio
import json
import ctypes
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from behavopt.core.errors import ConfigError, ModelError
from behavopt.lm.errors import LMContextOverflow, LMError
from behavopt.lm.markers import inert
from behavopt.lm.types import ChatRequest, Completion

T = TypeVar("T")

_SLOTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class LlamaLoadParams:
    n_ctx: int = 4096
    n_threads: int | None = None  # None: all cores
    n_gpu_layers: int = 0
    n_batch: int = 512
    prefix_cache_mib: int = 1024  # states of recent prompts kept per context; 0: only what the context holds now

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


def prefix_caching_llama(**kwargs: Any) -> Any:
    """A llama_cpp.Llama whose saved states leave out the logits.

    llama-cpp-python's own state copies its logits buffer (rows x vocabulary: 311 MB for Qwen's 152k-token vocabulary
    at n_batch 512) on every save, which costs more than the prefix it saves. Without `logits_all` nothing reads those
    rows, and a restored state is always decoded again from its last token before sampling, so they are not needed.
    """
    import numpy as np
    from llama_cpp import Llama, LlamaState

    class PrefixCachingLlama(Llama):
        def save_state(self) -> LlamaState:
            import llama_cpp

            size = llama_cpp.llama_state_get_size(self._ctx.ctx)
            buffer = (ctypes.c_uint8 * int(size))()
            written = int(llama_cpp.llama_state_get_data(self._ctx.ctx, buffer, size))
            return LlamaState(input_ids=self.input_ids[: self.n_tokens].copy(), scores=np.empty((0, 0), np.single),
                              n_tokens=self.n_tokens, llama_state=bytes(buffer)[:written], llama_state_size=written,
                              seed=self._seed)

        def load_state(self, state: LlamaState) -> None:
            import llama_cpp

            buffer = (ctypes.c_uint8 * state.llama_state_size).from_buffer_copy(state.llama_state)
            if llama_cpp.llama_state_set_data(self._ctx.ctx, buffer, state.llama_state_size) != state.llama_state_size:
                raise RuntimeError("failed to restore a saved llama.cpp state")
            self.input_ids[: state.n_tokens] = state.input_ids
            self.n_tokens = state.n_tokens
            self._seed = state.seed
            self._requires_eval = True  # the next prompt decodes at least its last token, which refreshes the logits

    return PrefixCachingLlama(**kwargs)


@dataclass(frozen=True)
class CallTiming:
    """What llama.cpp counted for one call: prompt tokens it computed, and its seconds of prompt and generation."""

    prompt_tokens_processed: int
    prompt_s: float
    generate_s: float


def reset_timing(llama: Any) -> None:
    import llama_cpp

    llama_cpp.llama_perf_context_reset(llama._ctx.ctx)


def read_timing(llama: Any) -> CallTiming:
    """llama.cpp's counters since `reset_timing`: prompt batches (n_p_eval) and single-token decodes (n_eval)."""
    import llama_cpp

    perf = llama_cpp.llama_perf_context(llama._ctx.ctx)
    return CallTiming(prompt_tokens_processed=int(perf.n_p_eval), prompt_s=perf.t_p_eval_ms / 1000,
                      generate_s=perf.t_eval_ms / 1000)


class ModelSlot:
    """One GGUF with its load parameters and a context of its own, loaded on first use on the llama thread."""

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
            from llama_cpp import LlamaRAMCache

            p = self.params
            try:
                self._llama = prefix_caching_llama(model_path=str(self.path), n_ctx=p.n_ctx, n_threads=p.threads(),
                                                   n_threads_batch=p.threads(), n_gpu_layers=p.n_gpu_layers,
                                                   n_batch=p.n_batch, verbose=False)
            except ValueError as err:  # llama.cpp could not read it: a truncated or damaged file
                raise ModelError(f"llama.cpp cannot load {self.path} ({err}): the file is damaged or truncated; "
                                 "pull it again (behavopt models pull NAME) or pass another GGUF file") from None
            if p.prefix_cache_mib > 0:
                self._llama.set_cache(LlamaRAMCache(capacity_bytes=p.prefix_cache_mib << 20))
        return self._llama

    async def call(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(llama_thread(), fn)


_SLOTS: dict[tuple[str, LlamaLoadParams, str], ModelSlot] = {}


def model_slot(path: Path, params: LlamaLoadParams, context: str = "shared") -> ModelSlot:
    """One slot (so one loaded model and one context) per file, load parameters and context name per process."""
    key = (str(Path(path).resolve()), params, context)
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

    def __init__(self, path: Path, *, file_sha256: str, name: str, params: LlamaLoadParams | None = None,
                 context: str = "shared"):
        self.path = Path(path)
        self.params = params or LlamaLoadParams()
        self.name = name
        # Thread count, batch size and prefix reuse change greedy outputs only through rounding (how a prompt is split
        # into batches; bench/engine_speed.py counts the answers that change), so they stay out of the identity; the
        # context size can change them outright (truncation).
        self.identity = f"llama.cpp:{file_sha256}:ctx={self.params.n_ctx}"
        self.slot = model_slot(self.path, self.params, context)

    def _run(self, request: ChatRequest) -> Completion:
        llama = self.slot.llama()
        messages = [{"role": m.role, "content": inert(m.content)} for m in request.messages]
        kwargs: dict[str, Any] = dict(messages=messages, temperature=request.temperature, top_p=request.top_p,
                                      max_tokens=request.max_tokens, seed=_sample_seed(request),
                                      stop=list(request.stop) or None)
        if request.json_schema:
            kwargs["response_format"] = {"type": "json_object", "schema": json.loads(request.json_schema)}
        start = time.perf_counter()
        reset_timing(llama)
        try:
            out = llama.create_chat_completion(**kwargs)
        except ValueError as err:
            if "context window" in str(err) or "exceed" in str(err):
                raise LMContextOverflow(f"{self.name}: {err}") from err
            raise LMError(f"{self.name}: {err}") from err
        except RuntimeError as err:
            raise LMError(f"{self.name}: {err}") from err
        latency = time.perf_counter() - start
        timing = read_timing(llama)
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(text=choice["message"].get("content") or "",
                          finish_reason=choice.get("finish_reason") or "stop",
                          prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          latency_s=latency, prompt_tokens_processed=timing.prompt_tokens_processed,
                          prompt_s=timing.prompt_s, generate_s=timing.generate_s)

    async def complete(self, request: ChatRequest) -> Completion:
        return await self.slot.call(lambda: self._run(request))

    async def aclose(self) -> None:
        # Loaded models stay for the life of the process: other clients may share them.
        return None
