"""The method plug point: one small module per method, plugged into the search engine through this protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from behavopt.optimizers.behavior.figures import BehaviorFigures
from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.methods.common import paraphrase
from behavopt.optimizers.settings import RunSettings

if TYPE_CHECKING:  # only for annotations
    from behavopt.eval.evaluator import EvalRecord

# The strategy that selects among a method's candidates: beam search, or Monte Carlo tree search (engine/).
SearchKind = Literal["beam", "mcts"]
# What a method reports per candidate in result.json beside the common fields (None: nothing).
CandidateFigures = BehaviorFigures


class Method(Protocol):
    name: ClassVar[str]
    search: ClassVar[SearchKind]
    # Whether the engine must score parents on a train batch to find errors before proposing.
    uses_errors: ClassVar[bool]
    # Whether the method shows the optimizer the dev score of every candidate made so far (OPRO's trajectory): then
    # every child is scored on all of dev, since a child stopped early by racing would change what it is shown.
    shows_all_scores: ClassVar[bool]

    async def initial(self, ctx: ProposalContext, seed: Candidate, n: int) -> list[Proposal]:
        """Up to n new initial candidates besides the seed candidate (the task's instruction)."""
        ...

    async def propose(self, ctx: ProposalContext, parents: list[Candidate], n: int) -> list[Proposal]:
        """Up to n children for each parent."""
        ...

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        """Optimizer calls one step makes for this many parents (for the estimate shown before a run)."""
        ...

    def candidate_figures(self, candidate: Candidate, dev_records: list["EvalRecord"],
                          notes: dict[str, Any]) -> CandidateFigures | None:
        """The method's own figures for a candidate in result.json, from its dev records and the method's notes."""
        ...


class PromptMethod:
    """What the prompt optimizers share: beam search, the unified setting's start (the task instruction plus
    optimizer paraphrases of it), and no figures of their own."""

    search: ClassVar[SearchKind] = "beam"
    shows_all_scores: ClassVar[bool] = False

    async def initial(self, ctx: ProposalContext, seed: Candidate, n: int) -> list[Proposal]:
        return await paraphrase(ctx, seed, seed.prompt, n, origin="initial")

    def candidate_figures(self, candidate: Candidate, dev_records: list["EvalRecord"],
                          notes: dict[str, Any]) -> CandidateFigures | None:
        return None
