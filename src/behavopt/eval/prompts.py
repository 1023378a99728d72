"""How a candidate's text reaches the target: the messages built for one example."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_json
from behavopt.core.schema import PROMPT_VERSION, FileFormat, plain, read_json, typed
from behavopt.lm.types import Message
from behavopt.tasks.types import Example


def with_instruction(instruction: str, text: str) -> str:
    """The one way an instruction and an input are joined, for `eval` and for optimization candidates alike, so the
    same prompt scores the same (and hits the same cache entries) everywhere."""
    return f"{instruction.strip()}\n\n{text}" if instruction.strip() else text


class PromptCandidate(Protocol):
    """Anything the evaluator can show the target: it turns one example into chat messages."""

    def render(self, example: Example) -> list[Message]: ...


@dataclass(frozen=True)
class InstructionPrompt:
    """A plain instruction, followed by the example's input in one user turn."""

    instruction: str

    def render(self, example: Example) -> list[Message]:
        return [Message("user", with_instruction(self.instruction, example.input))]


INPUT_SLOT = "{input}"


def as_template(text: str) -> str:
    """Text as a `str.format` template that reproduces it (its braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")


@dataclass(frozen=True)
class ScoredWith:
    """The request settings a prompt was scored under; the same prompt scores the same with them."""

    model: str
    max_tokens: int
    temperature: float = 0.0
    seed: int | None = 0


@dataclass(frozen=True)
class SplitSpec:
    """How a task was split: the sizes and the seed (the same always give the same split)."""

    train_size: int | None  # None: the task's default
    dev_size: int | None
    test_size: int | None  # None: the rest of the data (or the task's default)
    seed: int


@dataclass(frozen=True)
class PromptSource:
    """Where an optimized prompt came from: the run's task, method and candidate, its scores, and the split."""

    task: str
    method: str
    candidate: str
    dev_score: float
    test_score: float
    split: SplitSpec


@dataclass(frozen=True)
class Prompt:
    """What the target is told, as a file that travels (prompt.json, `behavopt.Prompt.load`):

        system  the system message, or None
        turns   demonstration turns shown before the input (user/assistant messages, as sent)
        user    the user turn: a `str.format` template with one field, {input} (literal braces doubled), so that
                `user.format(input=text)` is the message to send
        scored_with  the model and request settings it was scored under (None: not scored yet)
        source  the run it came from, with the split that reproduces its test score (None: written by hand)

    `messages(text)` gives OpenAI-style messages for a plain SDK call; `render(example)` makes it a candidate the
    evaluator scores.
    """

    user: str
    system: str | None = None
    turns: tuple[Message, ...] = ()
    scored_with: ScoredWith | None = None
    source: PromptSource | None = None

    def __post_init__(self) -> None:
        try:
            self.user.format(input="")
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"the user template {self.user[:80]!r} is not a format string with one field {{input}} "
                             f"({err}): double literal braces, as in {{{{ and }}}}") from None
        if INPUT_SLOT not in self.user.replace("{{", "").replace("}}", ""):
            raise ValueError(f"the user template {self.user[:80]!r} has no {{input}} field: add one where the input "
                             "goes")

    @staticmethod
    def from_instruction(instruction: str) -> "Prompt":
        """A plain instruction followed by the input, as `InstructionPrompt` shows it."""
        head = f"{instruction.strip()}\n\n" if instruction.strip() else ""
        return Prompt(user=as_template(head) + INPUT_SLOT)

    def user_message(self, text: str) -> str:
        return self.user.format(input=text)

    def render(self, example: Example) -> list[Message]:
        system = [Message("system", self.system)] if self.system is not None else []
        return [*system, *self.turns, Message("user", self.user_message(example.input))]

    def messages(self, text: str) -> list[dict[str, str]]:
        """The messages to send for one input, as the OpenAI chat API takes them."""
        return [{"role": m.role, "content": m.content} for m in self.render(Example(id="", input=text, target=""))]

    def to_dict(self) -> dict[str, Any]:
        return PROMPT_FORMAT.stamp(plain(self))

    @staticmethod
    def from_dict(data: Any, source: str = "prompt.json") -> "Prompt":
        return typed(Prompt, PROMPT_FORMAT.current(data, source), source)

    def save(self, path: str | Path) -> Path:
        atomic_write_json(Path(path), self.to_dict())
        return Path(path)

    @staticmethod
    def load(path: str | Path) -> "Prompt":
        return Prompt.from_dict(read_json(Path(path), "loading a prompt"), str(path))

    @staticmethod
    def from_file(path: str | Path) -> "Prompt":
        """A prompt file (.json, as `save` writes it) or a text file holding an instruction."""
        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(f"prompt file {path} not found: pass an existing prompt file (.json) or text file")
        if path.suffix.lower() == ".json":
            return Prompt.load(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConfigError(f"{path} is not UTF-8 text: save the prompt as UTF-8") from None
        if not text.strip():
            raise ConfigError(f"prompt file {path} is empty: write the instruction in it")
        return Prompt.from_instruction(text)


# A prompt file without schema_version (written by hand) is read as version 1.
PROMPT_FORMAT = FileFormat("prompt", PROMPT_VERSION, {0: lambda data: data})
