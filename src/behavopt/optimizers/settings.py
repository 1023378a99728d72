"""Run settings in groups, every number configurable, with the study's unified setting as defaults and presets.

Each setting is declared once, with its help text; the Python API's keyword overrides and the CLI's flags are made
from these declarations. A setting's flat name is its field name, prefixed with the group's name for the groups
that belong to one method or strategy (abo_demo, mcts_depth, ucb_rounds); its flag is the flat name with dashes
unless the declaration names another.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import cache
from typing import Any, ClassVar, Literal, get_args, get_origin, get_type_hints

from behavopt.core.errors import ConfigError


def setting(default: Any, help: str, *, minimum: float | None = None, flag: str | None = None) -> Any:
    """A setting's declaration: its default, its help text (shown by `--help`), the least value it takes (None: no
    bound) and its CLI flag where that is not the flat name with dashes."""
    return field(default=default, metadata={"help": help, "minimum": minimum, "flag": flag})


@dataclass(frozen=True)
class Declared:
    """A setting as declared: where it lives and how it is offered."""

    group: str
    title: str  # the group's title, for `--help`
    name: str  # the field in its group
    flat: str  # the name of the API's keyword override
    flag: str  # the CLI flag
    help: str
    minimum: float | None
    default: Any
    type: Any


class SettingGroup:
    """A group of settings; `prefix` joins the group to its fields' flat names."""

    prefix: ClassVar[str] = ""
    title: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = field_types(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            minimum, value = f.metadata.get("minimum"), getattr(self, f.name)
            if minimum is not None and value is not None and value < minimum:
                raise ConfigError(f"setting {self.prefix}{f.name}={value} is out of range: use {minimum:g} or more")
            choices = get_args(hints[f.name]) if get_origin(hints[f.name]) is Literal else ()
            if choices and value not in choices:
                raise ConfigError(f"setting {self.prefix}{f.name}={value!r} is unknown: use {' or '.join(choices)}")


@cache
def field_types(group: type) -> dict[str, Any]:
    """The resolved type of each field of a settings group."""
    return get_type_hints(group)


@dataclass(frozen=True)
class SearchGroup(SettingGroup):
    title = "Search"
    initial: int = setting(10, "initial candidates: the task instruction plus optimizer paraphrases", minimum=1)
    beam: int = setting(5, "candidates kept after each step, by dev score", minimum=1)
    expand: int = setting(2, "children per beam candidate per step", minimum=1)
    steps: int = setting(10, "search steps (for promptagent: tree-search iterations)", minimum=0)
    errors: int = setting(4, "error examples shown per reflection", minimum=1)
    train_batch: int = setting(32, "train examples scored per parent per step to find its errors", minimum=1)
    selection: Literal["full", "ucb"] = setting("full", "full: score every candidate on all of dev; ucb: ProTeGi's "
                                                        "bandit over dev samples")
    pick: Literal["dev", "significant", "kappa"] = setting(
        "dev", "the candidate a run returns: dev: the best by dev accuracy; significant: that one only where it beats "
               "the initial instruction on dev by the paired exact test, else the initial; kappa: the best by "
               "chance-corrected dev accuracy")
    minibatch: int | None = setting(None, "score children on this many dev examples first and drop those below "
                                          "every parent there", minimum=1)
    racing: bool = setting(True, "stop scoring a child on dev once it cannot pass the beam's last member even with "
                                 "every remaining example right (the selection stays the same; methods that show "
                                 "the optimizer every score, like opro, score every child fully)",
                           flag="--racing/--no-racing")


@dataclass(frozen=True)
class DataGroup(SettingGroup):
    title = "Data"
    train_size: int = setting(50, "train examples (the optimizer sees these)", minimum=1)
    dev_size: int = setting(50, "dev examples (candidates are chosen by their score here)", minimum=1)
    test_size: int | None = setting(100, "test examples (scored once at the end); none: the rest", minimum=1)
    seed: int = setting(0, "split and sampling seed")


@dataclass(frozen=True)
class ModelsGroup(SettingGroup):
    title = "Models"
    target_max_tokens: int = setting(512, "generation limit of the target per example", minimum=1)
    optimizer_max_tokens: int = setting(768, "generation limit of the optimizer per call", minimum=1)
    optimizer_temperature: float = setting(0.7, "sampling temperature of the optimizer", minimum=0)


@dataclass(frozen=True)
class BudgetGroup(SettingGroup):
    title = "Budget"
    max_calls: int | None = setting(None, "end the search cleanly before this many LM calls would be passed",
                                    minimum=1)
    max_tokens: int | None = setting(None, "end the search cleanly before this many LM tokens would be passed",
                                     minimum=1)
    max_usd: float | None = setting(None, "end the search cleanly before this many USD would be spent (prices from "
                                          "--price; local models cost 0)", minimum=0)
    max_seconds: float | None = setting(None, "end the search cleanly before this many seconds of wall time would "
                                              "be passed", minimum=0)
    count_test: bool = setting(True, "the budgets keep back what the final test evaluation will cost, so the whole "
                                     "run stays within them (--no-count-test: the test runs outside them)",
                               flag="--count-test/--no-count-test")
    patience: int | None = setting(None, "end the search when the best dev score has not risen for this many steps",
                                   minimum=1)
    target_score: float | None = setting(None, "end the search once the best dev score reaches this", minimum=0)


@dataclass(frozen=True)
class ABOGroup(SettingGroup):
    prefix = "abo_"
    title = "ABO"
    demo: bool = setting(True, "abo: show an instruction-following demonstration (--no-demo: the ablation)",
                         flag="--demo/--no-demo")
    rendering: Literal["turns", "system"] = setting("turns", "abo: the demonstration as chat turns or in the system "
                                                             "message", flag="--demo-rendering")
    demo_tries: int = setting(3, "abo: attempts at a demonstration that passes its check", minimum=1)
    demo_repair: bool = setting(False, "abo: a retried demonstration is the refused one sent back to the optimizer "
                                       "with the reason its check gave, to correct on the same example (off: a fresh "
                                       "demonstration on another drawn example)",
                                flag="--abo-demo-repair/--no-abo-demo-repair")
    successes: int = setting(0, "abo: when a failing step is broken down, also show what the target wrote for that "
                                "step in this many correctly answered train examples (0: the errors only)", minimum=0)
    replies: Literal["text", "json"] = setting("text", "abo: the optimizer replies in text lines, or in JSON held to "
                                                       "a schema per purpose (constrained decoding where the server "
                                                       "supports it: llama.cpp does)")
    target_demos: int = setting(0, "abo: when none of the optimizer's demonstrations passes its check, the target "
                                   "follows the procedure on this many train examples, and its own output that is "
                                   "right and passes the check becomes the demonstration (0: the candidate is "
                                   "dropped)", minimum=0)


@dataclass(frozen=True)
class MCTSGroup(SettingGroup):
    prefix = "mcts_"
    title = "PromptAgent tree search"
    depth: int = setting(4, "promptagent: deepest node expanded", minimum=1)
    width: int = setting(3, "promptagent: children per expansion", minimum=1)
    exploration: float = setting(2.5, "promptagent: UCT exploration weight", minimum=0)


@dataclass(frozen=True)
class UCBGroup(SettingGroup):
    prefix = "ucb_"
    title = "UCB selection"
    rounds: int = setting(4, "ucb: bandit rounds per step", minimum=1)
    sample: int = setting(10, "ucb: dev examples per arm pull", minimum=1)


@dataclass(frozen=True)
class ControlsGroup(SettingGroup):
    title = "Study controls"
    error_source: Literal["real", "pseudo"] = setting("real", "what reflection is shown: the target's real errors, "
                                                              "or pseudo errors (right answers made wrong)")
    paraphrase_steps: int = setting(0, "apo: children at steps 1..k are paraphrases of the parent, not reflected "
                                       "edits", minimum=0)


@dataclass(frozen=True)
class RunSettings:
    """Every setting of a run, by group."""

    search: SearchGroup = field(default_factory=SearchGroup)
    data: DataGroup = field(default_factory=DataGroup)
    models: ModelsGroup = field(default_factory=ModelsGroup)
    budget: BudgetGroup = field(default_factory=BudgetGroup)
    abo: ABOGroup = field(default_factory=ABOGroup)
    mcts: MCTSGroup = field(default_factory=MCTSGroup)
    ucb: UCBGroup = field(default_factory=UCBGroup)
    controls: ControlsGroup = field(default_factory=ControlsGroup)

    def __post_init__(self) -> None:
        if self.data.train_size < 1 or self.data.dev_size < 1:
            raise ConfigError("train and dev need at least one example: raise --train-size/--dev-size")

    @staticmethod
    def declared() -> list[Declared]:
        """Every setting as declared, in group order."""
        out = []
        for g in fields(RunSettings):
            group = g.default_factory  # type: ignore[misc]
            for f in fields(group):
                flat = group.prefix + f.name
                out.append(Declared(group=g.name, title=group.title, name=f.name, flat=flat,
                                    flag=f.metadata.get("flag") or "--" + flat.replace("_", "-"),
                                    help=f.metadata["help"], minimum=f.metadata.get("minimum"), default=f.default,
                                    type=field_types(group)[f.name]))
        return out

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name."""
        return {d.flat: getattr(getattr(self, d.group), d.name) for d in self.declared()}

    def with_overrides(self, **overrides: Any) -> "RunSettings":
        """These settings with some changed, by flat name; None leaves a setting as it is."""
        by_flat = {d.flat: d for d in self.declared()}
        unknown = set(overrides) - set(by_flat)
        if unknown:
            raise ConfigError(f"unknown setting(s) {sorted(unknown)}: known are {sorted(by_flat)}")
        changed: dict[str, dict[str, Any]] = {}
        for flat, value in overrides.items():
            if value is not None:
                d = by_flat[flat]
                changed.setdefault(d.group, {})[d.name] = value
        return replace(self, **{g: replace(getattr(self, g), **values) for g, values in changed.items()})


# `quick` finishes on 2 cores in at most 15 minutes with Qwen-0.5B as target and Qwen-1.5B as optimizer.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    # Measured: apo on demo:object-counting, Qwen-0.5B target, Qwen-1.5B optimizer, about 6 minutes (~570 calls).
    "quick": dict(initial=4, beam=3, expand=2, steps=2, errors=3, train_size=30, dev_size=25, test_size=50,
                  train_batch=12, target_max_tokens=256, optimizer_max_tokens=400, mcts_depth=3, mcts_width=2),
}


def preset(name: str) -> RunSettings:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset '{name}': use one of {', '.join(PRESETS)}")
    return RunSettings().with_overrides(**PRESETS[name])


def settings_from_v0(flat: dict[str, Any], method: str) -> dict[str, Any]:
    """Settings as version-0 run files wrote them (flat) in groups. Version 0 ran PromptAgent's tree search for
    `mcts_iterations` iterations whatever `steps` said; that count becomes its steps. Settings this behavopt no
    longer has are left out, and ones it added take their defaults."""
    flat = dict(flat)
    iterations = flat.pop("mcts_iterations", None)
    if method == "promptagent" and iterations is not None:
        flat["steps"] = iterations
    by_flat = {d.flat: d for d in RunSettings.declared()}
    nested: dict[str, dict[str, Any]] = {}
    for name, value in flat.items():
        if name in by_flat:
            nested.setdefault(by_flat[name].group, {})[by_flat[name].name] = value
    return nested
