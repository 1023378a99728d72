"""Prompts read out of optimizer replies (as small models write them), the methods' templates, error formatting."""

import re

import pytest

from behavopt.core.text import template
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.context import format_error
from behavopt.optimizers.methods.common import MAX_PROMPT_CHARS, format_errors, parse_prompts, render


@pytest.mark.parametrize("reply, expected", [
    ("Improved prompt: Track your position after each move.", ["Track your position after each move."]),
    ('"Track your position after each move."', ["Track your position after each move."]),
    # Only the closing tag: it must not end up in the prompt.
    ("Improved prompt: Track your position.<END>", ["Track your position."]),
    ("", []),
    ("   \n ", []),
    ("<START>x" + "y" * MAX_PROMPT_CHARS + "<END>", []),  # a runaway reply is no prompt
    ("<START>First<END> and <START>Second<END>", ["First", "Second"]),
])
def test_parse_prompts(reply, expected):
    assert parse_prompts(reply) == expected


def test_render_fills_slots_and_leaves_braces_in_values_alone():
    out = render("apo_edit", prompt='Reply with {"answer": X}. Use {errors} literally.', errors="ERR {feedback}",
                 feedback="FB {prompt}")
    assert 'Reply with {"answer": X}. Use {errors} literally.' in out
    assert "ERR {feedback}" in out and "FB {prompt}" in out
    assert out.count("ERR") == 1 and out.count("FB") == 1
    for slot in ("{prompt}", "{errors}", "{feedback}"):
        assert slot in template("behavopt.optimizers.methods", "apo_edit")


def test_every_template_slot_is_filled_by_its_method():
    # Slots the methods fill; a template with any other slot would reach the optimizer unfilled.
    slots = {"apo_gradient": {"prompt", "errors", "num_feedbacks"}, "apo_edit": {"prompt", "errors", "feedback"},
             "apo_sum_summarize": {"feedback"}, "apo_sum_edit": {"prompt", "errors", "feedback"},
             "opro_meta": {"trajectory", "exemplars"}, "paraphrase": {"prompt"},
             "promptagent_gradient": {"prompt", "errors"},
             "promptagent_optimize": {"prompt", "errors", "feedback", "trajectory"}}
    for name, expected in slots.items():
        assert set(re.findall(r"\{(\w+)\}", template("behavopt.optimizers.methods", name))) == expected, name


def record(i: int, output: str = "Hmm. Answer: 8", answer: str | None = "8") -> EvalRecord:
    return EvalRecord(id=f"x{i}", input=f"  Item #{i:03d}: which?  ", output=output, answer=answer, target=str(i),
                      correct=False, error=None, latency_s=0.0, cached=False)


def test_format_error_shows_input_gold_and_model_answer():
    text = format_error(record(7))
    assert text == "Input: Item #007: which?\nCorrect answer: 7\nModel answer: 8\nModel output: Hmm. Answer: 8"
    assert "Model answer: (no answer found)" in format_error(record(7, output="nothing", answer=None))
    long = format_error(record(7, output="a" * 1000 + "END"), max_chars=50)
    assert long.endswith("a" * 47 + "END") and "..." in long and len(long.split("Model output: ")[1]) == 53


def test_a_metrics_feedback_is_shown_after_the_output_and_a_whole_output_answer_is_cut():
    from dataclasses import replace

    shown = format_error(replace(record(7), feedback=" expected 7, not 8 "))
    assert shown.endswith("Model output: Hmm. Answer: 8\nFeedback on this output: expected 7, not 8")
    whole = format_error(replace(record(7), answer="x" * 500), max_chars=100)
    assert "Model answer: " + "x" * 50 + "...\n" in whole


def test_format_errors_numbers_the_examples():
    text = format_errors([record(1), record(2), record(3)])
    assert [line for line in text.splitlines() if line.startswith("## ")] == \
        ["## Example 1", "## Example 2", "## Example 3"]
