"""Search settings, every number configurable, with the study's unified setting as defaults and presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

from behavopt.errors import ConfigError


@dataclass(frozen=True)
class SearchSettings:
    # Beam search (the study's unified setting).
    initial: int = 10  # initial candidates: the task instruction plus optimizer paraphrases of it
    beam: int = 5  # candidates kept after each step, by dev score
    expand: int = 2  # children per beam candidate per step
    steps: int = 10
    errors: int = 4  # error examples shown per reflection
    # Data.
    train_size: int = 50
    dev_size: int = 50
    test_size: int | None = 100  # None: the rest of the data
    train_batch: int = 32  # train examples scored per parent per step to find its errors
    seed: int = 0
    # Scoring and selection.
    selection: Literal["full", "ucb"] = "full"
    ucb_rounds: int = 4  # bandit rounds when selection is "ucb"
    ucb_sample: int = 10  # dev examples per arm pull
    minibatch: int | None = None  # score children on this many dev examples first; drop clear losers early
    # PromptAgent (MCTS).
    mcts_iterations: int = 8
    mcts_depth: int = 4
    mcts_width: int = 3
    mcts_exploration: float = 2.5
    # ABO.
    abo_demo: bool = True  # False: the --no-demo ablation
    abo_rendering: str = "turns"  # how the demonstration reaches the target: turns or system
    abo_demo_tries: int = 3  # attempts at a demonstration that follows the procedure and reaches the gold answer
    # Controls of the study (behavopt study): what the optimizer is shown, and what replaces reflection.
    error_source: Literal["real", "pseudo"] = "real"  # pseudo: correct answers shown as if they were wrong
    paraphrase_steps: int = 0  # APO's children at steps 1..k are paraphrases of the parent, not reflected edits
    # Models.
    target_max_tokens: int = 512
    optimizer_max_tokens: int = 768
    optimizer_temperature: float = 0.7
    # Budgets (None: unbounded). Counted over the search; the final test evaluation always runs.
    max_calls: int | None = None
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in ("initial", "beam", "expand", "steps", "errors", "train_batch", "mcts_iterations", "mcts_depth",
                     "mcts_width", "ucb_rounds", "ucb_sample"):
            if getattr(self, name) < (0 if name == "steps" else 1):
                raise ConfigError(f"setting {name}={getattr(self, name)} is out of range: use a positive number")
        if self.train_size < 1 or self.dev_size < 1:
            raise ConfigError("train and dev need at least one example: raise --train-size/--dev-size")
        if self.abo_rendering not in ("turns", "system"):
            raise ConfigError(f"ABO rendering '{self.abo_rendering}' is unknown: use turns or system")
        if self.error_source not in ("real", "pseudo"):
            raise ConfigError(f"error source '{self.error_source}' is unknown: use real or pseudo")
        if self.paraphrase_steps < 0:
            raise ConfigError(f"paraphrase_steps={self.paraphrase_steps} is out of range: use 0 or more")
        if self.selection not in ("full", "ucb"):
            raise ConfigError(f"selection '{self.selection}' is unknown: use full or ucb")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_overrides(self, **overrides: Any) -> "SearchSettings":
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)}: known are {sorted(known)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


# `quick` finishes on 2 cores in at most 15 minutes with Qwen-0.5B as target and Qwen-1.5B as optimizer.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Measured: apo on demo:object-counting, Qwen-0.5B target, Qwen-1.5B optimizer, about 6 minutes (~570 calls).
    "quick": dict(initial=4, beam=3, expand=2, steps=2, errors=3, train_size=30, dev_size=25, test_size=50,
                  train_batch=12, target_max_tokens=256, optimizer_max_tokens=400, mcts_iterations=4, mcts_depth=3,
                  mcts_width=2),
}


def preset(name: str) -> SearchSettings:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset '{name}': use one of {', '.join(PRESETS)}")
    return SearchSettings().with_overrides(**PRESETS[name])
