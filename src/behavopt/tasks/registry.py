"""Task specs -> loaders. `load_task("bbh:navigate")`, `load_task("path/to/task.yaml")`, ..."""

from __future__ import annotations

from pathlib import Path

from behavopt.core.errors import TaskError
from behavopt.tasks.files import resolve_data_dir
from behavopt.tasks.types import Task

SPECS = {
    "bbh": "bbh:NAME (BIG-Bench Hard, e.g. bbh:navigate)",
    "bigbench": "bigbench:NAME (e.g. bigbench:question_selection)",
    "gsm8k": "gsm8k[:test|train]",
    "ii": "ii:NAME[:induce] (instruction induction, e.g. ii:antonyms)",
    "cls": "cls:sst2|trec|agnews[:test]",
    "hf": "hf:NAME[:SPLIT][?input=...&target=...] (Hugging Face dataset: saved folder or hub name)",
    "demo": "demo:object-counting|navigate|arithmetic[:N] (built in, no data)",
}
# Loaders that read the benchmark folder (data_dir / $BEHAVOPT_DATA).
DATA_LOADERS = {"bbh", "bigbench", "gsm8k", "ii", "cls"}


def _unknown(spec: str) -> TaskError:
    forms = "; ".join(SPECS.values())
    return TaskError(f"unknown task '{spec}': use {forms}; or a path to a task .yaml file")


def load_task(spec: str, data_dir: str | Path | None = None) -> Task:
    """Load a task from its spec. `data_dir` is the benchmark folder (default: $BEHAVOPT_DATA)."""
    spec = (spec or "").strip()
    if not spec:
        raise _unknown(spec)
    if spec.lower().endswith((".yaml", ".yml")):
        from behavopt.tasks.loaders import user
        return user.load(Path(spec))
    kind, _, rest = spec.partition(":")
    kind = kind.lower()
    if kind not in SPECS:
        if Path(spec).expanduser().is_file():
            raise TaskError(f"task file {spec} must be a .yaml or .yml task description (data files are named "
                            "inside it, under 'data')")
        raise _unknown(spec)
    if kind == "hf":
        from behavopt.tasks.loaders import hf
        return hf.load(rest)
    if kind == "demo":
        from behavopt.tasks import demo
        return demo.load(rest)
    if kind != "gsm8k" and not rest.strip():
        raise TaskError(f"task '{spec}' names no {kind} task: use {SPECS[kind]}")
    root = resolve_data_dir(data_dir, spec)
    if kind == "bbh":
        from behavopt.tasks.loaders import bbh
        return bbh.load(rest, root)
    if kind == "bigbench":
        from behavopt.tasks.loaders import bigbench
        return bigbench.load(rest, root)
    if kind == "gsm8k":
        from behavopt.tasks.loaders import gsm8k
        return gsm8k.load(rest, root)
    if kind == "ii":
        from behavopt.tasks.loaders import ii
        return ii.load(rest, root)
    from behavopt.tasks.loaders import cls
    return cls.load(rest, root)


def known_tasks(data_dir: str | Path | None = None) -> list[str]:
    """Every loadable benchmark spec found in the data folder, plus the built-in demos (for `--help` / listings)."""
    from behavopt.core.paths import data_dir as env_data_dir
    from behavopt.tasks import demo
    from behavopt.tasks.loaders import cls

    out = [f"demo:{name}" for name in demo.DEMOS]
    root = env_data_dir(data_dir)
    if root is None or not root.is_dir():
        return out
    out += [f"bbh:{p.stem}" for p in sorted((root / "bbh").glob("*.json"))]
    out += [f"bigbench:{p.stem}" for p in sorted((root / "bigbench").glob("*.json"))]
    out += [f"gsm8k:{s}" for s in ("test", "train") if (root / "gsm8k" / f"{s}.jsonl").is_file()]
    out += [f"ii:{p.stem}" for p in sorted((root / "instruction_induction" / "execute").glob("*.json"))]
    for name in cls.LABELS:
        for split, file in cls.SPLIT_FILES.items():
            if (root / "classification" / name / file).is_file():
                out.append(f"cls:{name}" if split == "dev" else f"cls:{name}:{split}")
    return out
