"""What the scores alone hide, in words: a gain that only moves the target toward the commoner gold answer, a best
prompt under which the target gives one answer to nearly every input, and a target that copies its demonstration's
answer. `optimize` prints them; the reports show them."""

from __future__ import annotations

from behavopt.optimizers.result import OptimizationResult
from behavopt.study.answers import ONE_ANSWER_SHARE, RunAnswers


def caveats(result: OptimizationResult, answers: RunAnswers | None = None) -> list[str]:
    """The caveats of a finished run; `answers`: the spread of its best prompt's test answers, where read."""
    lines = [f"label shift on {split}: the gain {gain:+.3f} is no more than the {chance_gain:+.3f} that the best "
             "prompt's answer frequencies alone give (answer_chance in result.json): it gives the commoner gold "
             "answer more often rather than solving more examples"
             for split, gain, chance_gain in result.label_shifts()]
    if answers is not None and answers.share >= ONE_ANSWER_SHARE:
        named = "no parsed answer" if answers.commonest is None else repr(answers.commonest)
        lines.append(f"one answer: under the best prompt the target gives {named} to {answers.share:.0%} of test "
                     "inputs, so its score is that answer's share of the gold answers, not a sign it solves the task")
    copying = result.demo_copying()
    if copying:
        answer, share, gold = copying
        lines.append(f"demonstration copied?: the target gives the demonstration's own answer {answer!r} to "
                     f"{share:.0%} of dev inputs, where {gold:.0%} have it: it may copy the worked example rather "
                     "than follow the steps (demo_answer_share in result.json)")
    return lines
