"""APO (ProTeGi): sampled errors -> feedback (the "textual gradient") -> edits that apply it -> paraphrases of them.

Per parent and step: one feedback call asking for k reasons, one edit call per reason, one paraphrase per edit,
where k = ceil(n / 2); the n children are the edits first, then their paraphrases.
"""

from __future__ import annotations

import math

from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.events import UnparsedReply
from behavopt.optimizers.methods.base import PromptMethod
from behavopt.optimizers.methods.common import format_errors, paraphrase, parse_list, parse_prompts, render
from behavopt.optimizers.settings import RunSettings


class APO(PromptMethod):
    name = "apo"
    uses_errors = True
    edit_template = "apo_edit"

    def reasons_per_parent(self, n: int) -> int:
        return max(1, math.ceil(n / 2))

    async def feedback(self, ctx: ProposalContext, parent: Candidate, errors_text: str, k: int) -> list[str]:
        reply = await ctx.ask("feedback", render("apo_gradient", prompt=parent.prompt, errors=errors_text,
                                                 num_feedbacks=k), parent=parent.id)
        return parse_list(reply)[:k]

    async def edit(self, ctx: ProposalContext, parent: Candidate, errors_text: str, feedback: str,
                   sample: int) -> list[Proposal]:
        reply = await ctx.ask("edit", render(self.edit_template, prompt=parent.prompt, errors=errors_text,
                                             feedback=feedback), parent=parent.id, sample=sample)
        prompts = parse_prompts(reply)
        if not prompts:
            ctx.emit(UnparsedReply(step=ctx.step, purpose="edit", parent=parent.id, output=reply))
        return [Proposal(p, parent.id, "edit", feedback=feedback) for p in prompts[:1]]

    async def expand_one(self, ctx: ProposalContext, parent: Candidate, n: int) -> list[Proposal]:
        if ctx.step <= ctx.settings.controls.paraphrase_steps:
            # The study's control: meaning-preserving paraphrases of the parent in place of reflected edits.
            return await paraphrase(ctx, parent, parent.prompt, n, origin="paraphrase-control")
        errors = await ctx.errors(parent)
        if not errors:
            # Nothing wrong on this batch: there is nothing to reflect on, so explore around the parent.
            return await paraphrase(ctx, parent, parent.prompt, n)
        errors_text = format_errors(errors)
        reasons = await self.feedback(ctx, parent, errors_text, self.reasons_per_parent(n))
        edits: list[Proposal] = []
        for i, reason in enumerate(reasons):
            edits += await self.edit(ctx, parent, errors_text, reason, sample=i)
        children = list(edits)
        for i, e in enumerate(edits):
            if len(children) >= n:
                break
            for p in await paraphrase(ctx, parent, e.prompt, 1, first_sample=i):
                children.append(Proposal(p.prompt, parent.id, "edit+paraphrase", feedback=e.feedback))
        return children[:n]

    async def propose(self, ctx: ProposalContext, parents: list[Candidate], n: int) -> list[Proposal]:
        out: list[Proposal] = []
        for parent in parents:
            out += await self.expand_one(ctx, parent, n)
        return out

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        expand = settings.search.expand
        k = self.reasons_per_parent(expand)
        return parents * (1 + k + min(k, expand - k))
