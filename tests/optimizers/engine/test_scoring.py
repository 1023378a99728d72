"""CandidateScorer: each (candidate, example) pair reaches the target once."""

import asyncio

from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.candidate import Candidate
from behavopt.optimizers.engine.scoring import CandidateScorer
from behavopt.tasks.types import Example


class CountingEvaluator:
    def __init__(self):
        self.calls: list[tuple[str, str]] = []

    async def score_one(self, candidate, example):
        self.calls.append((candidate.id, example.id))
        return EvalRecord(example.id, example.input, "Answer: 1", "1", example.target, example.target == "1", None,
                          0.0, False)


def test_a_candidate_given_twice_is_scored_once_per_example():
    # The final test scores [initial, best]; where the initial prompt stayed best both are the same candidate.
    evaluator = CountingEvaluator()
    scorer = CandidateScorer(evaluator)
    c = Candidate("c0000", "Answer.", None, 0, "initial")
    examples = [Example(id=str(i), input=f"q{i}", target=str(i % 2)) for i in range(4)]
    asyncio.run(scorer.score([c, c], examples))
    assert sorted(evaluator.calls) == [("c0000", str(i)) for i in range(4)]
    assert scorer.accuracy("c0000", examples) == 0.5
    asyncio.run(scorer.score([c], examples))  # already scored: nothing reaches the target
    assert len(evaluator.calls) == 4
