"""OPRO: a meta-prompt with the trajectory of (prompt, score) pairs in ascending order plus task exemplars asks the
optimizer for new instructions. It does not look at errors; the best prompt so far is recorded as the parent."""

from __future__ import annotations

from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.events import UnparsedReply
from behavopt.optimizers.methods.base import PromptMethod
from behavopt.optimizers.methods.common import parse_prompts, render
from behavopt.optimizers.settings import RunSettings

TRAJECTORY_SIZE = 20
EXEMPLARS = 3


def trajectory_text(history: list[tuple[Candidate, float]]) -> str:
    best: dict[str, tuple[Candidate, float]] = {}
    for cand, score in history:
        key = " ".join(cand.prompt.split())
        if key not in best or score > best[key][1]:
            best[key] = (cand, score)
    top = sorted(best.values(), key=lambda cs: cs[1])[-TRAJECTORY_SIZE:]  # ascending: best last
    return "\n\n".join(f"text:\n{c.prompt}\nscore:\n{round(100 * s)}" for c, s in top)


class OPRO(PromptMethod):
    name = "opro"
    uses_errors = False
    shows_all_scores = True

    async def propose(self, ctx: ProposalContext, parents: list[Candidate], n: int) -> list[Proposal]:
        best = max(ctx.history, key=lambda cs: cs[1])[0] if ctx.history else parents[0]
        out: list[Proposal] = []
        for i in range(len(parents) * n):
            exemplars = "\n\n".join(f"input:\nQ: <INS>\n{e.input}\nA:\noutput:\n{e.target}"
                                    for e in ctx.exemplars(EXEMPLARS))
            reply = await ctx.ask("meta_prompt", render("opro_meta", trajectory=trajectory_text(ctx.history),
                                                        exemplars=exemplars), parent=best.id, sample=i)
            prompts = parse_prompts(reply)
            if prompts:
                out.append(Proposal(prompts[0], best.id, "opro"))
            else:
                ctx.emit(UnparsedReply(step=ctx.step, purpose="meta_prompt", parent=best.id, output=reply))
        return out

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        return parents * settings.search.expand
