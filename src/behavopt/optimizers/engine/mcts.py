"""Monte Carlo tree search (PromptAgent). A node is a candidate; expanding it applies the method's action (errors
-> feedback -> new prompts) `width` times; the reward of a node is its dev score. One iteration is one step, so
`steps` sets the iterations as it sets every other strategy's steps."""

from __future__ import annotations

import math

from behavopt.optimizers.candidate import Candidate, creation_order, ranked
from behavopt.optimizers.engine.cost import RoleCalls
from behavopt.optimizers.engine.search import SearchEngine
from behavopt.optimizers.events import MctsIteration
from behavopt.optimizers.settings import RunSettings


class MCTS:
    name = "mcts"

    def total_steps(self, settings: RunSettings) -> int:
        return settings.search.steps

    def step_calls(self, engine: SearchEngine) -> RoleCalls:
        s = engine.settings
        train = min(s.search.train_batch, len(engine.splits.train)) if engine.method.uses_errors else 0
        return RoleCalls(target=train + s.mcts.width * len(engine.splits.dev),
                         optimizer=engine.method.optimizer_calls(s, 1))

    def initial_calls(self, engine: SearchEngine) -> RoleCalls:
        return RoleCalls(target=len(engine.splits.dev))

    def _tree(self, engine: SearchEngine) -> dict:
        return engine.state.strategy.setdefault("tree", {"visits": {}, "value": {}, "children": {}, "root": None})

    def _depth(self, engine: SearchEngine, cid: str) -> int:
        depth, node = 0, engine.state.candidates[cid]
        while node.parent is not None and node.parent in engine.state.candidates:
            depth, node = depth + 1, engine.state.candidates[node.parent]
        return depth

    def _uct(self, engine: SearchEngine, parent: str, child: str) -> float:
        tree = self._tree(engine)
        n = tree["visits"].get(child, 0)
        if n == 0:
            return math.inf
        q = tree["value"][child] / n
        return q + engine.settings.mcts.exploration * math.sqrt(math.log(max(tree["visits"][parent], 1)) / n)

    def select_path(self, engine: SearchEngine) -> list[str]:
        tree = self._tree(engine)
        path = [tree["root"]]
        while tree["children"].get(path[-1]):
            kids = tree["children"][path[-1]]
            path.append(max(kids, key=lambda k: (self._uct(engine, path[-1], k), -creation_order(k))))
        return path

    def backpropagate(self, engine: SearchEngine, path: list[str], reward: float) -> None:
        tree = self._tree(engine)
        for cid in path:
            tree["visits"][cid] = tree["visits"].get(cid, 0) + 1
            tree["value"][cid] = tree["value"].get(cid, 0.0) + reward

    async def run(self, engine: SearchEngine) -> None:
        s, state = engine.settings, engine.state
        state.stop_reason = None  # a resumed run stops for its own reason, not the last session's
        tree = self._tree(engine)
        if state.step < 0:
            root = await engine.initial_root()
            await engine.score_dev([root])
            tree["root"] = root.id
            self.backpropagate(engine, [root.id], state.dev_scores[root.id])
            state.beam = [root.id]
            engine.end_step(0, [root])
        while state.step < s.search.steps:
            if engine.stop_now(self):
                return
            step = state.step + 1
            path = self.select_path(engine)
            leaf = state.candidates[path[-1]]
            children: list[Candidate] = []
            if self._depth(engine, leaf.id) < s.mcts.depth:
                children = await engine.expand([leaf], s.mcts.width, step)
                await engine.score_dev(children)
                tree["children"][leaf.id] = [c.id for c in children]
            if children:
                best_child = state.candidates[ranked([c.id for c in children], state.dev_scores)[0]]
                reward = state.dev_scores[best_child.id]
                path = path + [best_child.id]
                for c in children:
                    if c is not best_child:
                        self.backpropagate(engine, [c.id], state.dev_scores[c.id])
            else:
                reward = state.dev_scores[leaf.id]
            self.backpropagate(engine, path, reward)
            state.beam = ranked(state.dev_scores, state.dev_scores)[: s.search.beam]
            engine.emit(MctsIteration(step=step, path=tuple(path), reward=reward))
            engine.end_step(step, children)
        state.stop_reason = state.stop_reason or f"finished {s.search.steps} iterations"
