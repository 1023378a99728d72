"""The layering contract (pyproject.toml, checked by import-linter): cli -> study -> optimizers -> eval -> tasks | lm
-> core, and the study never imports a method's internals. The contract holds on the source, and it catches an
import that reaches up a layer."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def lint(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT)], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_source_keeps_every_contract():
    out = lint(ROOT / "src", ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: 2 kept, 0 broken." in out.stdout


def test_an_import_reaching_up_a_layer_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "src" / "behavopt", tmp_path / "src" / "behavopt")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "src" / "behavopt" / "eval" / "stats.py", "a") as f:
        f.write("\nfrom behavopt.optimizers.candidate import INITIAL_ID  # noqa: E402\n")
    out = lint(tmp_path / "src", tmp_path)
    assert out.returncode != 0
    assert "behavopt.eval is not allowed to import behavopt.optimizers" in out.stdout
