"""The bad-input catalogue: each case is refused with one line naming the problem and the fix, a non-zero exit and
nothing half-written (more cases: test_eval_cli, test_optimize_own_data, test_crash_safety, lm/test_spec,
lm/test_local_models, optimizers/test_rundir). An input too long for the model is that example's recorded error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_eval_cli import behavopt

MODEL = "local:smollm2-135m?threads=2"


def files(tmp: Path) -> dict[str, Path]:
    """The files the cases use, each bad in one way."""
    made = {
        "empty.txt": "",
        "blank.txt": "  \n\n",
        "header-only.csv": "input,answer\n",
        "scalar.json": "42",
        "rows.jsonl": '{"input": "1 + 1", "answer": "2"}\n{"input": "2 + 2", "answer": "4"}\n',
        "broken.jsonl": '{"input": "1", "answer": "1"}\n{"input": \n',
        "broken.yaml": "name: [unclosed\n",
        "notarget.yaml": "name: x\ndata: rows.jsonl\ninput: input\n",
        "metric_module.py": "def exact(example, output):\n    return output.strip() == example.target\n",
    }
    for name, text in made.items():
        (tmp / name).write_text(text)
    (tmp / "fake.gguf").write_bytes(b"GGML" + bytes(64))
    (tmp / "truncated.gguf").write_bytes(b"GGUF" + bytes(4092))  # the magic, then nothing a model needs
    (tmp / "latin1.jsonl").write_bytes('{"input": "caf\xe9", "answer": "x"}\n'.encode("latin-1"))
    (tmp / "a-file").write_text("not a folder")
    return {name: tmp / name for name in [*made, "fake.gguf", "truncated.gguf", "latin1.jsonl", "a-file"]}


def cases(tmp: Path) -> dict[str, tuple[list[str], str]]:
    f = files(tmp)
    task = ["--task", "demo:navigate"]
    opt = ["optimize", *task, "--method", "apo", "--target", MODEL, "--optimizer", MODEL]
    return {
        "empty prompt file": (["eval", *task, "--model", MODEL, "--prompt", str(f["empty.txt"])], "is empty"),
        "blank prompt file": (["eval", *task, "--model", MODEL, "--prompt", str(f["blank.txt"])], "is empty"),
        "own data without rows": (["eval", "--data", str(f["header-only.csv"]), "--instruction", "Add.", "--model",
                                   MODEL], "header-only.csv"),
        "own data not rows": (["eval", "--data", str(f["scalar.json"]), "--instruction", "Add.", "--model", MODEL],
                              "scalar.json"),
        "own data broken line": (["eval", "--data", str(f["broken.jsonl"]), "--instruction", "Add.", "--model",
                                  MODEL], "broken.jsonl:2"),
        "own data not UTF-8": (["eval", "--data", str(f["latin1.jsonl"]), "--instruction", "Add.", "--model", MODEL],
                               "UTF-8"),
        "task file invalid YAML": (["eval", "--task", str(f["broken.yaml"]), "--model", MODEL], "invalid YAML"),
        "task file without target": (["eval", "--task", str(f["notarget.yaml"]), "--model", MODEL],
                                     "'target' is required"),
        "metric not found": (["eval", "--data", str(f["rows.jsonl"]), "--instruction", "Add.", "--model", MODEL,
                              "--metric", f"{f['metric_module.py']}:nope"], "nope"),
        "not a GGUF file": (["eval", *task, "--model", f"gguf:{f['fake.gguf']}", "--limit", "1"], "not a GGUF file"),
        "truncated GGUF file": (["eval", *task, "--model", f"gguf:{f['truncated.gguf']}", "--limit", "1"],
                                "damaged or truncated"),
        "unknown local model": (["eval", *task, "--model", "local:gpt-5", "--limit", "1"], "gpt-5"),
        "model option not a number": (["eval", *task, "--model", "local:smollm2-135m?n_ctx=big"], "n_ctx"),
        "key in the model spec": (["eval", *task, "--model", "openai:m?api_key=sk-abc"], "--api-key"),
        "value not a number": ([*opt, "--steps", "two", "--out", str(tmp / "r1")], "'--steps'"),
        "value below its minimum": ([*opt, "--beam", "0", "--out", str(tmp / "r2")], "'--beam'"),
        "no such option": ([*opt, "--stpes", "2", "--out", str(tmp / "r3")], "--stpes"),
        "zero slots": ([*opt, "--slots", "0", "--out", str(tmp / "r4")], "'--slots'"),
        "unknown method": (["optimize", *task, "--method", "dspy", "--target", MODEL, "--optimizer", MODEL, "--out",
                            str(tmp / "r5")], "unknown method 'dspy'"),
        "unknown split": (["eval", *task, "--model", MODEL, "--split", "validation"], "unknown split"),
        "output folder under a file": ([*opt, "--out", str(f["a-file"] / "run")], "Not a directory"),
        "output folder is a file": (["eval", *task, "--model", MODEL, "--limit", "1", "--out", str(f["a-file"])],
                                    "a-file"),
        "output folder not writable": ([*opt, "--out", "/proc/1/behavopt-run"], "cannot write /proc/1/behavopt-run"),
        "resume of nothing": ([*opt, "--out", str(tmp / "r6"), "--resume"], "nothing to resume"),
    }


CASES = [  # the ids, as cases() names them
    "empty prompt file", "blank prompt file", "own data without rows", "own data not rows", "own data broken line",
    "own data not UTF-8", "task file invalid YAML", "task file without target", "metric not found",
    "not a GGUF file", "truncated GGUF file", "unknown local model", "model option not a number", "key in the model spec",
    "value not a number", "value below its minimum", "no such option", "zero slots", "unknown method",
    "unknown split", "output folder under a file", "output folder is a file", "output folder not writable",
    "resume of nothing"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_a_non_zero_exit_and_nothing_written(case, tmp_path):
    args, must_name = cases(tmp_path)[case]
    before = sorted(p.name for p in tmp_path.iterdir())
    proc = behavopt(*args, env_home=tmp_path)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert must_name in lines[0] and "Traceback" not in proc.stderr and proc.stdout == ""
    after = sorted(p.name for p in tmp_path.iterdir() if p.name not in ("cache.sqlite", "cache.sqlite-wal",
                                                                         "cache.sqlite-shm"))
    assert after == before  # no run or output folder left behind


@pytest.mark.e2e
def test_inputs_longer_than_the_context_are_those_examples_recorded_errors(smollm_path, tmp_path):
    rows = [{"input": "What is 2 + 2?", "answer": "4"}, {"input": "word " * 1_200_000, "answer": "x"},  # ~5 MB
            {"input": "apple " * 3000, "answer": "y"}, {"input": "What is 3 + 3?", "answer": "6"}]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = behavopt("eval", "--data", str(data), "--instruction", "Answer with the number.", "--model",
                    "local:smollm2-135m?threads=2&n_ctx=2048", "--max-tokens", "8", "--out", str(tmp_path / "ev"),
                    "--json", env_home=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["n"] == 4 and summary["complete"] and summary["lm_errors"] == 2  # scored, as wrong answers
    records = [json.loads(line) for line in (tmp_path / "ev" / "records.jsonl").read_text().splitlines()]
    assert [r["error"].split(":")[0] if r["error"] and r["output"] is None else None for r in records] == \
        [None, "LMContextOverflow", "LMContextOverflow", None]
