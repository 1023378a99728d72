import json
import os
import subprocess
import sys

from tests.cli.test_eval_cli import behavopt


def test_models_list_and_path():
    out = behavopt("models", "list", check=True).stdout
    for name in ("smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"):
        assert name in out
    path = behavopt("models", "path", "smollm2-135m", check=True).stdout.strip()
    assert path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf")


def test_pull_of_verified_model_is_a_no_op(smollm_path):
    proc = behavopt("models", "pull", "smollm2-135m", check=True)
    assert proc.stdout.strip() == str(smollm_path) and "already pulled" in proc.stderr


def test_unknown_model_is_one_line():
    proc = behavopt("models", "pull", "gpt-7")
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown local model 'gpt-7'")


def test_cache_info_and_clear(tmp_path):
    path = tmp_path / "c.sqlite"
    info = json.loads(behavopt("cache", "info", "--cache", str(path), check=True).stdout)
    assert info["entries"] == 0 and not path.exists()  # looking creates nothing
    from behavopt.lm.cache import ResponseCache
    from behavopt.lm.types import Completion

    cache = ResponseCache(path)
    cache.put("k", "m", Completion("t", "stop", 1, 1, 0.1))
    cache.close()
    assert json.loads(behavopt("cache", "info", "--cache", str(path), check=True).stdout)["entries"] == 1
    assert "removed 1" in behavopt("cache", "clear", "--cache", str(path), check=True).stdout


def test_import_creates_no_files(tmp_path):
    home = tmp_path / "home"
    code = ("import behavopt, behavopt.lm, behavopt.tasks, behavopt.eval, behavopt.cli.main, behavopt.lm.llama_backend,"
            " behavopt.lm.openai_backend")
    env = {**os.environ, "BEHAVOPT_HOME": str(home), "HOME": str(tmp_path / "user")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert not home.exists() and not (tmp_path / "user").exists()
