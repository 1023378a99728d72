"""How varied the target's test answers are under the best prompts of a study's runs.

A finding about scores says little when the target gives one answer whatever the input: Qwen-0.5B answers "No" to
every BBH navigate question under every prompt tried, so "pseudo errors score as well as real ones" there only says
that no prompt moved it off "No". Each summary states the spread, with a caveat when the answers are nearly one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

from behavopt.eval.stats import chance_corrected
from behavopt.optimizers.rundir import RunDir
from behavopt.study.runview import RunView

# A run whose commonest test answer takes this share or more is treated as giving one answer: the share is chosen
# so that a two-label task at its gold rate (about 50-65 % on BBH's binary tasks) never reaches it by solving.
ONE_ANSWER_SHARE = 0.9


@dataclass(frozen=True)
class RunAnswers:
    run: str
    commonest: str | None  # the answer the best prompt gave most often on test (None: no answer parsed)
    share: float  # its share of the test outputs
    kappa: float | None  # the best prompt's chance-corrected test accuracy (None: result.json lacks the chance)


@dataclass(frozen=True)
class AnswerSpread:
    runs: tuple[RunAnswers, ...]

    @property
    def one_answer_runs(self) -> int:
        return sum(r.share >= ONE_ANSWER_SHARE for r in self.runs)

    @property
    def mostly_one_answer(self) -> bool:
        """Most runs' best prompts gave one answer to (nearly) every test input."""
        return bool(self.runs) and self.one_answer_runs * 2 > len(self.runs)

    def text(self) -> str:
        if not self.runs:
            return "no finished runs"
        counts = Counter(r.commonest for r in self.runs)
        commonest, n = counts.most_common(1)[0]
        mean_share = sum(r.share for r in self.runs) / len(self.runs)
        kappas = [r.kappa for r in self.runs if r.kappa is not None]
        kappa = f", mean chance-corrected accuracy (kappa) {sum(kappas) / len(kappas):+.2f}" if kappas else ""
        named = "no parsed answer" if commonest is None else repr(commonest)
        out = (f"under the best prompts of {len(self.runs)} runs the commonest test answer is {named} in "
               f"{n} of them, taking {mean_share:.0%} of a run's answers on average{kappa}; "
               f"{self.one_answer_runs} of {len(self.runs)} runs give one answer to at least "
               f"{ONE_ANSWER_SHARE:.0%} of inputs")
        if self.mostly_one_answer:
            out += (". Caveat: the target gives nearly one answer whatever the input, so findings about scores "
                    "compare answer frequencies, not how well the prompts solve the task")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text(), "runs": [asdict(r) for r in self.runs], "one_answer_runs": self.one_answer_runs,
                "one_answer_share": ONE_ANSWER_SHARE, "mostly_one_answer": self.mostly_one_answer}


def run_answers(view: RunView) -> RunAnswers | None:
    """The spread of a finished run's best prompt on test; None for an unfinished run or one without test records."""
    if not view.result:
        return None
    records = view.records(view.result.best_candidate, split="test")
    if not records:
        return None
    (commonest, n), = Counter(r.answer for r in records).most_common(1)
    chance = view.result.answer_chance.best.test if view.result.answer_chance else None
    kappa = None if chance is None else round(chance_corrected(view.result.best_test_score, chance), 4)
    return RunAnswers(run=str(view.path), commonest=commonest, share=round(n / len(records), 4), kappa=kappa)


def answer_spread(views: Iterable[RunView]) -> AnswerSpread:
    """The spread over distinct finished runs (a run shared by two parts of an experiment counts once)."""
    seen: dict[str, RunAnswers] = {}
    for view in views:
        if str(view.path) not in seen and (answers := run_answers(view)) is not None:
            seen[str(view.path)] = answers
    return AnswerSpread(tuple(seen.values()))


def answer_spread_of(run_dirs: Iterable[str | Path]) -> AnswerSpread:
    """The spread over run directories (an experiment's `runs`); directories holding no run are left out."""
    views = []
    for path in dict.fromkeys(str(p) for p in run_dirs):
        if RunDir(path).checkpoint_path.is_file():
            views.append(RunView.load(path))
    return answer_spread(views)
