"""What the methods share: templates from text files, parsing of the optimizer's output, paraphrasing."""

from __future__ import annotations

from behavopt.core.text import clean_block, fill, parse_list, tagged_blocks, template
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext, format_error
from behavopt.optimizers.events import UnparsedReply

MAX_PROMPT_CHARS = 4000

__all__ = ["MAX_PROMPT_CHARS", "format_errors", "paraphrase", "parse_list", "parse_prompts", "render"]


def render(name: str, **values: object) -> str:
    """One of the methods' prompt templates (prompts/NAME.txt) with its slots filled."""
    return fill(template(__package__, name), **values)


def parse_prompts(text: str) -> list[str]:
    """Prompts from a reply: tagged blocks, else the whole reply when it plausibly is one prompt."""
    blocks = tagged_blocks(text)
    if not blocks:
        whole = clean_block(text)
        blocks = [whole] if whole else []
    return [b for b in blocks if 0 < len(b) <= MAX_PROMPT_CHARS]


def format_errors(errors: list[EvalRecord]) -> str:
    return "\n\n".join(f"## Example {i + 1}\n{format_error(r)}" for i, r in enumerate(errors))


async def paraphrase(ctx: ProposalContext, parent: Candidate | None, prompt: str, n: int, *,
                     origin: str = "paraphrase", first_sample: int = 0) -> list[Proposal]:
    """n semantic variations of a prompt, one optimizer call each (small models write one prompt well, not many)."""
    out = []
    for i in range(n):
        reply = await ctx.ask("paraphrase", render("paraphrase", prompt=prompt),
                              parent=parent.id if parent else None, sample=first_sample + i)
        prompts = parse_prompts(reply)
        if prompts:
            out.append(Proposal(prompts[0], parent.id if parent else None, origin))
        else:
            ctx.emit(UnparsedReply(step=ctx.step, purpose="paraphrase", parent=parent.id if parent else None,
                                   output=reply))
    return out
