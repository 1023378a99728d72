"""APO-Sum: the feedback on all sampled errors is summarised into a list of aspects before editing."""

from __future__ import annotations

from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.methods.apo import APO
from behavopt.optimizers.methods.common import parse_list, render
from behavopt.optimizers.settings import RunSettings


class APOSum(APO):
    name = "apo-sum"
    edit_template = "apo_sum_edit"

    async def feedback(self, ctx: ProposalContext, parent: Candidate, errors_text: str, k: int) -> list[str]:
        # Reasons over all errors, then one summary of aspects; every edit applies the whole summary.
        reasons = await super().feedback(ctx, parent, errors_text, max(k, ctx.settings.search.errors))
        reply = await ctx.ask("summarize", render("apo_sum_summarize",
                                                  feedback="\n".join(f"- {r}" for r in reasons)), parent=parent.id)
        aspects = parse_list(reply)
        summary = "\n".join(f"- {a}" for a in aspects) if aspects else "\n".join(f"- {r}" for r in reasons)
        return [summary] * k

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        return super().optimizer_calls(settings, parents) + parents
