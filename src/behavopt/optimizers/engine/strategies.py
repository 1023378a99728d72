"""The search strategies, one module each, by the search kind a method declares."""

from __future__ import annotations

from behavopt.optimizers.engine.beam import BeamSearch
from behavopt.optimizers.engine.mcts import MCTS
from behavopt.optimizers.engine.search import SearchStrategy
from behavopt.optimizers.methods.base import Method, SearchKind

STRATEGIES: dict[SearchKind, type[SearchStrategy]] = {"beam": BeamSearch, "mcts": MCTS}


def strategy_for(method: Method) -> SearchStrategy:
    return STRATEGIES[method.search]()
