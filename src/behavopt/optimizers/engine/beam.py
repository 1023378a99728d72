"""Beam search as in the study's unified setting: expand every beam candidate, keep the best by dev score.

Options: `racing` (on by default) scores children one after another and stops a child's dev scoring once it could
not pass the beam's last member even with every remaining example right, which leaves every selection as it was;
`minibatch` scores children on a few dev examples first and drops those below the weakest parent there
(parents' scores on those examples are already known, so the check is free); `selection="ucb"` picks the beam
with ProTeGi's UCB bandit over dev samples instead of scoring every candidate on all of dev.
"""

from __future__ import annotations

import math
import random

from behavopt.eval.stats import mean_score
from behavopt.optimizers.candidate import Candidate, creation_order, ranked
from behavopt.optimizers.engine.cost import RoleCalls
from behavopt.optimizers.engine.search import SearchEngine
from behavopt.optimizers.events import EarlyStopped, Outraced, Scored
from behavopt.optimizers.settings import RunSettings


class BeamSearch:
    name = "beam"

    def total_steps(self, settings: RunSettings) -> int:
        return settings.search.steps

    def step_calls(self, engine: SearchEngine) -> RoleCalls:
        s = engine.settings.search
        parents = max(1, len(engine.state.beam) or s.beam)
        children = parents * s.expand
        train = parents * min(s.train_batch, len(engine.splits.train)) if engine.method.uses_errors else 0
        return RoleCalls(target=train + children * len(engine.splits.dev),
                         optimizer=engine.method.optimizer_calls(engine.settings, parents))

    def initial_calls(self, engine: SearchEngine) -> RoleCalls:
        s = engine.settings.search
        return RoleCalls(target=s.initial * len(engine.splits.dev), optimizer=s.initial - 1)

    async def run(self, engine: SearchEngine) -> None:
        s, state = engine.settings.search, engine.state
        state.stop_reason = None  # a resumed run stops for its own reason, not the last session's
        if state.step < 0:
            initial = await engine.initial_candidates()
            await self.score(engine, [], initial, step=0)
            state.beam = await self.select(engine, initial, step=0)
            engine.end_step(0, initial)
        while state.step < s.steps:
            if engine.stop_now(self):
                return
            step = state.step + 1
            parents = [state.candidates[c] for c in state.beam]
            children = await engine.expand(parents, s.expand, step)
            await self.score(engine, parents, children, step=step)
            state.beam = await self.select(engine, parents + children, step=step)
            engine.end_step(step, children)
        state.stop_reason = state.stop_reason or f"finished {s.steps} steps"

    async def score(self, engine: SearchEngine, parents: list[Candidate], children: list[Candidate], step: int) -> None:
        s = engine.settings
        if s.search.selection == "ucb":
            return  # the bandit scores while it selects
        minibatch = s.search.minibatch
        if not minibatch or not parents or minibatch >= len(engine.splits.dev):
            await self.score_full(engine, parents, children, step)
            return
        batch = random.Random(f"{s.data.seed}:minibatch:{step}").sample(engine.splits.dev, minibatch)
        await engine.scorer.score(children, batch)
        floor = min(engine.scorer.accuracy(p.id, batch) for p in parents)
        keep = [c for c in children if engine.scorer.accuracy(c.id, batch) >= floor]
        for c in children:
            if c not in keep:
                engine.state.dev_scores[c.id] = engine.scorer.accuracy(c.id, batch)
                engine.state.early_stopped.append(c.id)
                engine.emit(EarlyStopped(step=step, candidate=c.id, minibatch_score=engine.state.dev_scores[c.id],
                                         floor=floor, n=len(batch)))
        await self.score_full(engine, parents, keep, step)

    async def score_full(self, engine: SearchEngine, parents: list[Candidate], children: list[Candidate],
                         step: int) -> None:
        """Score children on all of dev: together, or one by one with racing."""
        s = engine.settings
        if not s.search.racing or engine.method.shows_all_scores or not parents:
            await engine.score_dev(children)
            return
        for child in children:
            await self.race(engine, child, [p.id for p in parents] + [c.id for c in children], step)

    async def race(self, engine: SearchEngine, child: Candidate, pool: list[str], step: int) -> None:
        """Score one child on dev until it is in, or cannot get in. The selection ranks the pool (parents and this
        step's children) and gives ties to the earlier candidate, so a child must pass the score of the beam's last
        member among the pool's fully scored candidates (all made before it)."""
        dev, beam = engine.splits.dev, engine.settings.search.beam
        bar: list[float] = []  # the bar when it stopped

        def hopeless(records: list) -> bool:
            scored = engine.state.fully_scored()
            scores = sorted((scored[c] for c in pool if c in scored and c != child.id), reverse=True)
            if len(scores) < beam:
                return False
            best_possible = mean_score([r.score for r in records] + [1.0] * (len(dev) - len(records)))
            bar[:] = [scores[beam - 1]]
            return best_possible <= scores[beam - 1]

        wave = engine.evaluator.lm.backend.max_concurrency
        if await engine.scorer.score_until(child, dev, wave, hopeless):
            await engine.score_dev([child])  # every record is in: this records the score and emits Scored
            return
        seen = engine.scorer.records(child.id, dev)
        so_far = mean_score([r.score for r in seen])
        engine.state.dev_scores[child.id] = so_far
        engine.state.early_stopped.append(child.id)
        engine.emit(Outraced(step=step, candidate=child.id, score_so_far=so_far, scored=len(seen),
                             best_possible=mean_score([r.score for r in seen] + [1.0] * (len(dev) - len(seen))),
                             bar=bar[0], n=len(dev)))

    async def select(self, engine: SearchEngine, pool: list[Candidate], step: int) -> list[str]:
        partial = set(engine.state.early_stopped)
        pool = [c for c in pool if c.id not in partial]
        if engine.settings.search.selection == "ucb":
            return await self.select_ucb(engine, pool, step)
        return ranked([c.id for c in pool], engine.state.dev_scores)[: engine.settings.search.beam]

    async def select_ucb(self, engine: SearchEngine, pool: list[Candidate], step: int) -> list[str]:
        """UCB1 over candidates: each round pulls the `beam` arms with the highest upper bound on a fresh dev
        sample; the beam is the `beam` best by mean. Means over the examples seen become the dev scores."""
        s = engine.settings
        beam = s.search.beam
        rng = random.Random(f"{s.data.seed}:ucb:{step}")
        pulls = {c.id: 0 for c in pool}
        total = 0
        for _ in range(s.ucb.rounds):
            def bound(c: Candidate) -> float:
                if pulls[c.id] == 0:
                    return math.inf
                mean = engine.scorer.accuracy(c.id, engine.splits.dev)
                return mean + math.sqrt(2 * math.log(max(total, 1)) / pulls[c.id])

            arms = sorted(pool, key=lambda c: (-bound(c), creation_order(c.id)))[:beam]
            sample = rng.sample(engine.splits.dev, min(s.ucb.sample, len(engine.splits.dev)))
            await engine.scorer.score(arms, sample)
            for c in arms:
                pulls[c.id] += 1
                total += 1
        dev = engine.splits.dev
        for c in pool:
            seen = engine.scorer.records(c.id, dev)
            if seen:
                engine.state.dev_scores[c.id] = mean_score([r.score for r in seen])
                engine.emit(Scored(step=step, candidate=c.id, split="dev", n=len(seen),
                                   score=engine.state.dev_scores[c.id], selection="ucb"))
        scored = [c.id for c in pool if c.id in engine.state.dev_scores]
        return ranked(scored, engine.state.dev_scores)[:beam]
