"""An adherence judge: does the target's output under a child prompt show the behaviour the refinement asked for?

A refinement (an APO edit, an ABO step rewrite) is meant to change what the target does. Whether the child prompt
scores better says nothing about whether the target did the new thing, so an LLM judge reads one output at a time
against a written rubric (prompts/adherence_judge.txt) and answers FOLLOWED or NOT FOLLOWED. It judges the presence
of the behaviour, never the correctness of the answer. Its agreement with hand labels is measured by `agreement`.

The judge sees the requested behaviour, the task input and the output, with an "Evidence:" line to fill before the
verdict. Measured with Qwen2.5-Coder-1.5B on the 30 hand-labelled cases: this rubric 18/30; the same rubric showing
the child prompt too 17/30 (the judge took the instruction's words for the answer's); a reasoning-first rubric 16/30
and one with three solved examples 15/30, both calling nearly everything FOLLOWED. A 1.5B judge is weak here: pass a
stronger one (`--judge`) where available; reports quote the measured agreement (`MEASURED_AGREEMENT`).

A reply without a readable verdict gives `followed=None` (recorded, never guessed), and a failed LM call raises
(`judge`) or is collected as an error (`judge_many`): a failure is never turned into a verdict.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

from behavopt.core.text import fill, template
from behavopt.lm.errors import LMError
from behavopt.lm.types import ChatRequest, Message

if TYPE_CHECKING:  # only for annotations: the client pulls in the cache and backend stack
    from behavopt.lm.client import LM

TEMPLATE = "adherence_judge"
MAX_OUTPUT_CHARS = 1500


@dataclass(frozen=True)
class AdherenceCase:
    """One output to judge. `requested` is the behaviour the edit asked for (the feedback or edit text, or the
    refined procedure step); `prompt` is the child prompt the target saw."""

    requested: str
    prompt: str
    input: str
    output: str
    id: str = ""


@dataclass(frozen=True)
class AdherenceVerdict:
    """followed: True/False, or None when the judge's reply holds no readable verdict. reason: the judge's
    reasoning (the reply without its verdict line). raw: the reply as written."""

    followed: bool | None
    reason: str
    raw: str


@dataclass(frozen=True)
class JudgeBatch:
    """What `judge_many` returns. verdicts[i] belongs to cases[i]; it is None where that LM call failed, and the
    error is in `errors` as (index, error). A verdict with followed=None is a reply without a readable verdict."""

    verdicts: list[AdherenceVerdict | None]
    errors: list[tuple[int, LMError]] = field(default_factory=list)


def truncate_output(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """The last `limit` characters behind '...': the end of an output (the final steps and answer) is where a
    requested behaviour or format is most often visible, and a small judge loses track of very long inputs."""
    return text if len(text) <= limit else "..." + text[-limit:]


def judge_prompt(case: AdherenceCase, max_output_chars: int = MAX_OUTPUT_CHARS) -> str:
    return fill(template(__package__, TEMPLATE), requested=case.requested.strip(), prompt=case.prompt.strip(),
                input=case.input.strip(), output=truncate_output(case.output.strip(), max_output_chars))


# Markdown a small model wraps around its verdict; an underscore becomes a space (NOT_FOLLOWED).
_MARKUP = re.compile(r"[*`#>\"'\[\]]")
_VERDICT = re.compile(r"\bverdict\b\s*(?:is\s*)?[:=\-]?\s*(not[\s\-]*followed|followed|yes|no)\b(.*)", re.I)
_BARE = re.compile(r"^\W*(not[\s\-]*followed|followed)\W*$", re.I)
# "Verdict: FOLLOWED or NOT FOLLOWED" echoes the template's choices: no verdict.
_ALTERNATIVE = re.compile(r"^\s*(?:or\b|/|\|)", re.I)


def _line_verdict(line: str) -> bool | None:
    line = _MARKUP.sub("", line).replace("_", " ")
    found: bool | None = None
    for m in _VERDICT.finditer(line):
        if not _ALTERNATIVE.match(m.group(2)):
            found = _meaning(m.group(1))
    if found is None and (m := _BARE.match(line)):
        found = _meaning(m.group(1))
    return found


def _meaning(word: str) -> bool:
    # "not followed" starts with "not" and "no" is a whole word, so neither is ever read as FOLLOWED.
    w = word.lower()
    return not (w.startswith("not") or w == "no")


def _find_verdict(text: str) -> tuple[bool | None, int | None]:
    """The last verdict in the text and the index of its line (a model that reconsiders ends with its choice)."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        verdict = _line_verdict(lines[i])
        if verdict is not None:
            return verdict, i
    return None, None


def parse_verdict(text: str) -> bool | None:
    """True for FOLLOWED, False for NOT FOLLOWED, None when no verdict can be read. Accepts 'Verdict: X' anywhere on
    a line (any case, markdown, 'Verdict is X', yes/no) and a line holding only FOLLOWED or NOT FOLLOWED."""
    return _find_verdict(text)[0]


def read_reply(text: str) -> AdherenceVerdict:
    followed, line = _find_verdict(text)
    lines = text.splitlines()
    if line is None:
        reason = text.strip()
    else:  # reasoning written on the verdict line itself ("... so Verdict: FOLLOWED") is kept
        parts = re.split(r"verdict", lines[line], maxsplit=1, flags=re.I)
        before = parts[0] if len(parts) == 2 else ""  # a bare FOLLOWED line holds no reasoning
        reason = "\n".join([*lines[:line], _MARKUP.sub("", before)]).strip()
    return AdherenceVerdict(followed=followed, reason=reason, raw=text)


@dataclass
class AdherenceJudge:
    """An LLM judge over one `LM` (any role; the study uses the optimizer-side model). Greedy by default, so a
    case's verdict is reproducible and cacheable."""

    lm: "LM"
    max_tokens: int = 160
    temperature: float = 0.0
    seed: int = 0
    max_output_chars: int = MAX_OUTPUT_CHARS

    def request(self, case: AdherenceCase) -> ChatRequest:
        return ChatRequest(messages=(Message("user", judge_prompt(case, self.max_output_chars)),),
                           temperature=self.temperature, max_tokens=self.max_tokens, seed=self.seed)

    async def judge(self, case: AdherenceCase) -> AdherenceVerdict:
        """One LM call. An `LMError` propagates: a failed call is not a verdict."""
        completion = await self.lm.complete(self.request(case))
        return read_reply(completion.text)

    async def judge_many(self, cases: Sequence[AdherenceCase], concurrency: int = 4) -> JudgeBatch:
        """Judge every case; verdicts come back in the order of `cases`. A case whose LM call failed gets None and
        its error is collected, so one failure does not lose the other verdicts. Errors other than `LMError` are
        bugs and propagate."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        gate = asyncio.Semaphore(concurrency)

        async def one(case: AdherenceCase) -> AdherenceVerdict | LMError:
            async with gate:
                try:
                    return await self.judge(case)
                except LMError as e:
                    return e

        results = await asyncio.gather(*(one(c) for c in cases))
        batch = JudgeBatch(verdicts=[])
        for i, r in enumerate(results):
            if isinstance(r, LMError):
                batch.verdicts.append(None)
                batch.errors.append((i, r))
            else:
                batch.verdicts.append(r)
        return batch


def agreement(verdicts: Sequence[AdherenceVerdict | bool | None], labels: Sequence[bool]) -> dict:
    """How far the judge agrees with hand labels, FOLLOWED being the positive class.

    n          cases                          agree      verdict equals the label
    accuracy   agree / n: an unreadable verdict or a failed call counts as a disagreement, so a judge cannot look
               better by not answering (None when n is 0)
    unparsed   replies without a readable verdict     failed    calls that failed (verdict None)
    tp, tn, fp, fn  over the readable verdicts only
    """
    if len(verdicts) != len(labels):
        raise ValueError(f"{len(verdicts)} verdicts but {len(labels)} labels: they must pair up one to one")
    counts = dict(n=len(labels), agree=0, unparsed=0, failed=0, tp=0, tn=0, fp=0, fn=0)
    for v, label in zip(verdicts, labels):
        if v is None:
            counts["failed"] += 1
            continue
        followed = v.followed if isinstance(v, AdherenceVerdict) else v
        if followed is None:
            counts["unparsed"] += 1
            continue
        key = ("tp" if label else "fp") if followed else ("fn" if label else "tn")
        counts[key] += 1
        counts["agree"] += followed == bool(label)
    return {**counts, "accuracy": counts["agree"] / counts["n"] if counts["n"] else None}


__all__ = ["AdherenceCase", "AdherenceVerdict", "AdherenceJudge", "JudgeBatch", "agreement", "judge_prompt",
           "parse_verdict", "read_reply", "truncate_output"]


# Agreement with the 30 hand-labelled cases (tests/study/data/adherence_cases.json), measured on 2026-11-25 with the
# rubric in prompts/adherence_judge.txt; reports quote it so adherence rates from a weak judge are read as rough.
MEASURED_AGREEMENT = {"qwen2.5-coder-1.5b": "18/30 = 0.60"}


def agreement_note(judge_spec: str) -> str:
    name = judge_spec.split(":", 1)[-1].split("?", 1)[0]
    known = MEASURED_AGREEMENT.get(name)
    if known:
        return f"judge {judge_spec}, which agrees with {known} hand labels: read adherence as rough"
    return f"judge {judge_spec}, not checked against the hand labels (run tests/study/test_judge.py with it)"
