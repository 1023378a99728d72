"""A scripted world for optimizer logic tests: a small task, a target whose accuracy is written into the prompt,
an optimizer that answers each template deterministically, and a search engine wired to both.

Target: a prompt carrying the tag `[qN]` answers an item correctly when item % 10 < N (no tag: N = 3), so a
candidate's score is known from its text. Wrong answers are the item number plus one.
Optimizer: every reply is a function of the request text and sample number only (never of call order).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from behavopt.lm.client import LM
from behavopt.lm.types import ChatRequest, Completion, UsageByRole
from behavopt.optimizers.config import RunConfig
from behavopt.optimizers.engine.search import SearchEngine, SearchStrategy
from behavopt.optimizers.engine.stop import AnyOf, StopCondition, StopFile
from behavopt.optimizers.engine.strategies import strategy_for
from behavopt.optimizers.events import E, Event
from behavopt.optimizers.methods import get_method
from behavopt.optimizers.estimate import SPEED_PROMPT
from behavopt.optimizers.rundir import RunDir
from behavopt.optimizers.settings import RunSettings
from behavopt.tasks.types import AnswerType, Example, Task
from tests.lm.scripted import ScriptedBackend

INSTRUCTION = "Read the item and reply with its number. End with 'Answer: N'. [q3]"
ITEM = re.compile(r"Item #(\d{3}):")
QUALITY = re.compile(r"\[q(\d+)\]")

# Each optimizer template, told apart by a phrase only it has.
MARKERS = {
    "paraphrase": "Generate a variation of the following instruction",
    "apo_gradient": "reasons why the prompt could have gotten these examples wrong",
    "apo_edit": "Based on these examples the problem with this prompt is that",
    "apo_sum_summarize": "Summarize these reasons into a short list",
    "apo_sum_edit": "To fix them, the prompt should improve these aspects",
    "opro_meta": "Below are some previous instructions with their scores",
    "promptagent_gradient": "summarize and list\nall the aspects",
    "promptagent_optimize": "There is a list of former prompts",
    "abo_procedure": "You design step-by-step procedures",
    "abo_demo": "Show how to follow a procedure exactly",
    "abo_localize": "Which is the first\nstep where the model went wrong",
    "abo_refine": "down into two to four finer",
}

SMALL = dict(initial=4, beam=2, expand=2, steps=2, errors=3, train_size=20, dev_size=20, test_size=20,
             train_batch=10, mcts_depth=2, mcts_width=2)


def make_task(n: int = 60) -> Task:
    examples = [Example(id=f"x{i:03d}", input=f"Item #{i:03d}: which number is this?", target=str(i))
                for i in range(n)]

    def extract(output: str, ex: Example) -> str | None:
        found = re.findall(r"Answer:\s*(\d+)", output)
        return found[-1] if found else None

    return Task(name="items", examples=examples, instruction=INSTRUCTION, answer_type=AnswerType.TEXT,
                extract=extract, metric=lambda a, ex: a == ex.target)


def text_of(request: ChatRequest) -> str:
    return "\n".join(m.content for m in request.messages)


def kind_of(request: ChatRequest) -> str:
    text = text_of(request)
    kinds = [k for k, marker in MARKERS.items() if marker in text]
    if "abo_demo" in kinds or "abo_localize" in kinds:  # they quote a procedure, which may quote the instruction
        kinds = [k for k in kinds if k.startswith("abo_")]
    assert len(kinds) == 1, f"request matches templates {kinds}: {text[:200]}"
    return kinds[0]


def quality(prompt: str) -> int:
    found = QUALITY.findall(prompt)  # the last tag wins: a procedure's own tag comes after the quoted instruction
    return int(found[-1]) if found else 3


def speed_probe(request: ChatRequest) -> bool:
    """The request that times a model writing (see optimizers.estimate.writing_speed)."""
    return request.messages[-1].content == SPEED_PROMPT


def target_answer(request: ChatRequest) -> str:
    content = request.messages[-1].content
    if speed_probe(request):
        return "1 2 3 4 5"
    prompt, _, _ = content.rpartition("\n\n")
    n = int(ITEM.search(content).group(1))
    return f"Answer: {n}" if n % 10 < quality(prompt) else f"Hmm. Answer: {n + 1}"


def digest(request: ChatRequest) -> str:
    # Like a sampling LM: the request's seed (which the engine varies by step) and sample number change the reply.
    return hashlib.sha1(f"{text_of(request)}|{request.seed}|{request.sample}".encode()).hexdigest()[:8]


def quoted_prompt(request: ChatRequest) -> str:
    """The prompt the template is about (the parent's, or for a paraphrase the instruction to vary)."""
    text = text_of(request)
    m = re.search(r"Instruction: (.*)\n\nWrite only", text, re.S) or \
        re.search(r'My current prompt is:\n"?(.*?)"?\n\nBut', text, re.S)
    return m.group(1) if m else ""


def optimizer_answer(request: ChatRequest) -> str:
    if speed_probe(request):
        return "1 2 3 4 5"
    kind, h = kind_of(request), digest(request)
    if kind == "apo_gradient":
        n = int(re.search(r"Give (\d+) reasons", text_of(request)).group(1))
        return "\n".join(f"<START>Reason {h}-{j}: the prompt is vague.<END>" for j in range(1, n + 1))
    if kind == "apo_sum_summarize":
        return f"<START>Aspect {h}-1<END>\n<START>Aspect {h}-2<END>"
    if kind == "promptagent_gradient":
        return f"Step by step... <START>Aspect {h}: be precise.<END>"
    if kind == "abo_procedure":
        return f"Step 1: Read the item {h}. [q{int(h, 16) % 10}]\nStep 2: Write its number."
    if kind == "abo_refine":  # the sub-steps of the failing step
        return f"Step 1: Find the '#' sign {h}. [q{int(h, 16) % 10}]\nStep 2: Read the three digits after it."
    if kind == "abo_demo":
        text = text_of(request)
        answer = re.search(r"Correct answer: (\S+)", text).group(1)
        n_steps = len(re.findall(r"^Step \d+:", text.split("Input:")[0], re.M))
        return "\n".join(f"Step {i + 1}: done" for i in range(n_steps)) + f"\nAnswer: {answer}"
    if kind == "abo_localize":
        return f"Failing step: 1\nReason: misread the item ({h})."
    return f"<START>Variant {h}: reply with the number. [q{int(h, 16) % 10}]<END>"


class DelayedBackend(ScriptedBackend):
    """A scripted backend whose calls take a random time, so concurrent calls finish in varying orders."""

    def __init__(self, *args: Any, delay_seed: int, max_delay_s: float = 0.004, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._delays = random.Random(delay_seed)
        self.max_delay_s = max_delay_s
        self.finished: list[str] = []

    async def complete(self, request: ChatRequest) -> Completion:
        await asyncio.sleep(self._delays.random() * self.max_delay_s)
        completion = await super().complete(request)
        self.finished.append(text_of(request))
        return completion


@dataclass
class Harness:
    engine: SearchEngine
    target: ScriptedBackend
    optimizer: ScriptedBackend
    rundir: RunDir

    @property
    def state(self):
        return self.engine.state

    @property
    def splits(self):
        return self.engine.splits

    def events(self, kind: type[E] = Event) -> list[E]:  # type: ignore[assignment]
        return [e for e in self.rundir.events() if isinstance(e, kind)]

    def optimizer_texts(self) -> list[str]:
        return [text_of(r) for r in self.optimizer.requests]

    def requests_of(self, kind: str) -> list[ChatRequest]:
        return [r for r in self.optimizer.requests if kind_of(r) == kind]

    def strategy(self) -> SearchStrategy:
        return strategy_for(self.engine.method)

    def run(self, strategy: SearchStrategy | None = None) -> None:
        asyncio.run((strategy or self.strategy()).run(self.engine))

    def scored_ids(self, candidate_id: str) -> set[str]:
        return {r.id for r in self.engine.scorer.all_records(candidate_id)}


def build(tmp_path: Path, method: str = "ape", *, task: Task | None = None,
          opt_reply: Callable[[ChatRequest], str] | None = None,
          opt_fail: Callable[[ChatRequest], Exception | None] | None = None,
          target_reply: Callable[[ChatRequest], str] | None = None,
          optimizer: ScriptedBackend | None = None, target: ScriptedBackend | None = None,
          stop: StopCondition | None = None, on_update: Callable[[dict], None] | None = None,
          **settings: Any) -> Harness:
    task = task or make_task()
    s = RunSettings().with_overrides(**{**SMALL, **settings})
    splits = task.split(s.data.train_size, s.data.dev_size, s.data.test_size, seed=s.data.seed)
    rundir = RunDir(tmp_path / "run")
    rundir.prepare(RunConfig(task=task.name, method=method, target="target", optimizer="optimizer", settings=s),
                   resume=False)
    usage = UsageByRole()
    target = target or ScriptedBackend(target_reply or target_answer, name="target", max_concurrency=8)
    optimizer = optimizer or ScriptedBackend(opt_reply or optimizer_answer, name="optimizer", fail=opt_fail)
    engine = SearchEngine(task=task, splits=splits, settings=s, method=get_method(method),
                          target=LM(target, role="target", usage=usage.target),
                          optimizer=LM(optimizer, role="optimizer", usage=usage.optimizer), usage=usage,
                          rundir=rundir, stop=stop or AnyOf((StopFile(rundir.stop_path),)),
                          on_update=on_update or (lambda info: None))
    return Harness(engine, target, optimizer, rundir)


def item_numbers(text: str) -> list[int]:
    return [int(m) for m in ITEM.findall(text)]
