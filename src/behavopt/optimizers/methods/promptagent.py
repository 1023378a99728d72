"""PromptAgent: Monte Carlo tree search whose action is an APO-style reflection: errors -> feedback -> new prompt.
Each expansion of a node makes `n` children from one feedback; the MCTS engine does the selection."""

from __future__ import annotations

from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.events import UnparsedReply
from behavopt.optimizers.methods.base import PromptMethod
from behavopt.optimizers.methods.common import format_errors, paraphrase, parse_list, parse_prompts, render
from behavopt.optimizers.settings import RunSettings


class PromptAgent(PromptMethod):
    name = "promptagent"
    uses_errors = True
    shows_all_scores = True
    search = "mcts"

    async def propose(self, ctx: ProposalContext, parents: list[Candidate], n: int) -> list[Proposal]:
        out: list[Proposal] = []
        lineage = {c.id: c for c, _ in ctx.history}
        for parent in parents:
            errors = await ctx.errors(parent)
            if not errors:
                out += await paraphrase(ctx, parent, parent.prompt, n)
                continue
            errors_text = format_errors(errors)
            reply = await ctx.ask("feedback", render("promptagent_gradient", prompt=parent.prompt,
                                                     errors=errors_text), parent=parent.id)
            feedback = "\n".join(f"- {a}" for a in parse_list(reply)) or reply.strip()
            path, node = [], parent
            while node is not None:
                path.append(node.prompt)
                node = lineage.get(node.parent) if node.parent else None
            trajectory = "\n".join(f"({i + 1}) {p}" for i, p in enumerate(reversed(path)))
            for i in range(n):
                reply = await ctx.ask("optimize", render("promptagent_optimize", prompt=parent.prompt,
                                                         errors=errors_text, feedback=feedback,
                                                         trajectory=trajectory), parent=parent.id, sample=i)
                prompts = parse_prompts(reply)
                if prompts:
                    out.append(Proposal(prompts[0], parent.id, "edit", feedback=feedback))
                else:
                    ctx.emit(UnparsedReply(step=ctx.step, purpose="optimize", parent=parent.id, output=reply))
        return out

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        return parents * (1 + settings.mcts.width)
