"""Iterative-APE: new candidates are semantic variations of the best ones (no look at errors)."""

from __future__ import annotations

from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.methods.base import PromptMethod
from behavopt.optimizers.methods.common import paraphrase
from behavopt.optimizers.settings import RunSettings


class IterativeAPE(PromptMethod):
    name = "ape"
    uses_errors = False

    async def propose(self, ctx: ProposalContext, parents: list[Candidate], n: int) -> list[Proposal]:
        out: list[Proposal] = []
        for parent in parents:
            out += await paraphrase(ctx, parent, parent.prompt, n, origin="variation")
        return out

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        return parents * settings.search.expand
