"""The README's "Your own task" snippet, pasted and run as a user would, with the real SmolLM2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def own_task_snippet() -> str:
    section = README.read_text(encoding="utf-8").split("## Your own task", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the section holds one Python snippet"
    return blocks[0]


def test_the_snippet_uses_the_public_api_only():
    code = own_task_snippet()
    assert re.findall(r"^import (\S+)", code, re.M) == ["behavopt"] and "from behavopt" not in code


@pytest.mark.e2e
def test_the_own_task_snippet_runs_as_pasted(smollm_path, tmp_path):
    proc = subprocess.run([sys.executable, "-c", own_task_snippet()], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "examples: train 4, dev 4, test 4" in proc.stderr and "estimate / actual: calls" in proc.stderr
    assert "->" in proc.stdout and "'role': 'user'" in proc.stdout
    saved = json.loads((tmp_path / "reverse.prompt.json").read_text())
    assert saved["schema_version"] == 1 and saved["user"].endswith("{input}")
    assert (tmp_path / "runs" / "reverse" / "best_prompt.json").is_file()
