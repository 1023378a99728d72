import pytest

from behavopt.core.errors import ConfigError, ModelError
from behavopt.lm.spec import open_backend, parse_spec


def test_parse_kinds_and_options():
    s = parse_spec("local:qwen2.5-coder-0.5b?n_ctx=8192&threads=2")
    assert (s.kind, s.target, s.options) == ("local", "qwen2.5-coder-0.5b", {"n_ctx": "8192", "threads": "2"})
    assert parse_spec("openai:gpt-4o-mini").target == "gpt-4o-mini"
    assert parse_spec("gguf:/x/y.gguf").target == "/x/y.gguf"


@pytest.mark.parametrize("bad", ["qwen", "hf:foo", "local:", "local:x?bogus=1", "openai:m?n_ctx=3",
                                 "local:x?context=mine", "openai:m?prefix_cache=0"])
def test_bad_specs_name_the_fix(bad):
    with pytest.raises(ConfigError) as info:
        parse_spec(bad)
    assert bad in str(info.value)


def test_unknown_local_model():
    with pytest.raises(ModelError, match="unknown local model 'nope'.*smollm2-135m"):
        open_backend("local:nope")


def test_gguf_must_exist_and_be_gguf(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        open_backend(f"gguf:{tmp_path}/missing.gguf")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(ModelError, match="not a GGUF"):
        open_backend(f"gguf:{fake}")


def test_openai_identity_and_repr_hide_the_key():
    b = open_backend("openai:my-model?base_url=http://127.0.0.1:9/v1", api_key="sk-SECRET-123")
    assert "SECRET" not in b.identity and "SECRET" not in b.name and "SECRET" not in repr(b)
    assert b.identity == "openai:http://127.0.0.1:9/v1:my-model"


@pytest.mark.parametrize("text", ["openai:m?api_key=sk-SECRET-9&base_url=http://127.0.0.1:9/v1",
                                  "openai:m?token=sk-SECRET-9", "local:smollm2-135m?API_KEY=sk-SECRET-9"])
def test_a_key_in_a_model_spec_is_refused_without_echoing_it(text):
    with pytest.raises(ConfigError) as info:
        parse_spec(text)
    message = str(info.value)
    assert "SECRET" not in message and "OPENAI_API_KEY or --api-key" in message and "***" in message
