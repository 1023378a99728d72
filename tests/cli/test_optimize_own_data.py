"""`behavopt optimize` on the user's own files: --prompt-file, --train/--dev, --input-field/--answer-field,
--metric file.py:function, --price and --max-usd, with the real SmolLM2; and bad input refused in one line."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_eval_cli import behavopt
from tests.cli.test_optimize_cli import TINY

METRIC = '''
import behavopt


def reversed_word(example, output):
    if example.target in output.lower():
        return True
    return behavopt.Score(0.0, f"the reversed word is {example.target!r}")
'''
WORDS = ["cat", "dog", "bird", "fish", "lion", "bear", "wolf", "frog", "duck", "goat", "mole", "seal"]


def own_files(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"word": f"Reverse the word: {w}", "gold": w[::-1]}) + "\n" for w in WORDS))
    dev = tmp_path / "dev.csv"
    dev.write_text("word,gold\n" + "".join(f"Reverse the word: {w},{w[::-1]}\n" for w in ("kiwi", "newt", "toad")))
    (tmp_path / "prompt.txt").write_text("Reverse the word.\n")
    (tmp_path / "metrics.py").write_text(METRIC)
    return ["--prompt-file", str(tmp_path / "prompt.txt"), "--train", str(train), "--dev", str(dev),
            "--input-field", "word", "--answer-field", "gold", "--metric", f"{tmp_path / 'metrics.py'}:reversed_word"]


@pytest.mark.e2e
def test_own_files_metric_and_a_usd_budget(smollm_path, tmp_path):
    model = "local:smollm2-135m?threads=2"
    test = tmp_path / "test.jsonl"
    test.write_text("".join(json.dumps({"word": f"Reverse the word: {w}", "gold": w[::-1]}) + "\n"
                            for w in ("owl", "emu", "yak", "ant")))
    proc = behavopt("optimize", *own_files(tmp_path), "--test", str(test), "--method", "apo", *TINY, "--steps", "3",
                    "--price",
                    f"{model}=2000/8000", "--max-usd", "12", "--out", str(tmp_path / "run"), "--json", "--cache",
                    str(tmp_path / "c.sqlite"), check=True)
    result = json.loads(proc.stdout)
    assert result["dev_size"] == 3 and result["spent"]["usd"] <= 12 and result["estimate"]["usd"] > 0
    assert "budget" in result["stop_reason"] or result["stop_reason"] == "finished 3 steps"
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["metric"].endswith(":reversed_word") and config["prices"][model] == {"input_per_m": 2000.0,
                                                                                       "output_per_m": 8000.0}
    assert result["best_prompt"]["user"].endswith("{input}") and result["test_size"] == 4
    # The best prompt file re-scored on the test file by `behavopt eval`: the run's test score, from the cache.
    proc = behavopt("eval", "--prompt", str(tmp_path / "run" / "best_prompt.json"), "--data", str(test),
                    "--input-field", "word", "--answer-field", "gold", "--metric",
                    f"{tmp_path / 'metrics.py'}:reversed_word", "--json", "--cache", str(tmp_path / "c.sqlite"),
                    check=True)
    summary = json.loads(proc.stdout)
    assert summary["accuracy"] == round(result["best_test_score"], 4) and summary["n"] == 4
    assert summary["usage"]["calls"] == 0 and summary["usage"]["cache_hits"] == 4
    # A resumed run must be given the same data.
    args = own_files(tmp_path)
    (tmp_path / "dev.csv").write_text("word,gold\nReverse the word: owl,lwo\n")
    again = behavopt("optimize", *args, "--method", "apo", *TINY, "--steps", "3", "--price",
                     f"{model}=2000/8000", "--max-usd", "12", "--out", str(tmp_path / "run"), "--resume")
    assert again.returncode != 0 and "data" in again.stderr


@pytest.mark.parametrize("change, message", [
    (["--answer-field", "nope"], ":1: no answer field nope (fields: word, gold)"),
    (["--metric", "metrics.py"], "is not module:function"),
    (["--price", "local:x"], "--price local:x is not MODEL=IN/OUT"),
    (["--price", "local:x=cheap"], "price 'cheap' is not IN/OUT"),
    (["--prompt-file", "missing.txt"], "prompt file missing.txt not found"),
])
def test_bad_own_input_is_refused_in_one_line(tmp_path, change, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = own_files(tmp_path)
    flag = change[0]
    if flag in args:
        args[args.index(flag) + 1] = change[1]
    else:
        args += change
    proc = behavopt("optimize", *args, "--target", "openai:t", "--optimizer", "openai:o", "--out",
                    str(tmp_path / "run"))
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_no_task_and_no_train_is_refused(tmp_path):
    proc = behavopt("optimize", "--out", str(tmp_path / "run"))
    assert proc.returncode == 2 and "no task: pass --task SPEC for a built-in task, or --train FILE" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--task", "demo:navigate", "--data", "x.jsonl"], "name what to score: --task SPEC"),
    ([], "name what to score: --task SPEC"),
    (["--data", "train.jsonl"], "--data needs the prompt to score"),
    (["--data", "train.jsonl", "--instruction", "Reverse.", "--input-field", "word", "--answer-field", "gold"],
     "no --model"),
    (["--task", "demo:navigate", "--metric", "m:f", "--model", "local:x"], "--metric scores your own --data"),
])
def test_eval_on_own_data_refuses_bad_input_in_one_line(tmp_path, monkeypatch, args, message):
    own_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    proc = behavopt("eval", *args)
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
