"""Tagged blocks and lists read out of a model's reply (as small models write them), and one-pass template filling."""

import pytest

from behavopt.core.text import fill, parse_list, tagged_blocks


@pytest.mark.parametrize("reply, expected", [
    ("<START>Solve the task step by step.<END>", ["Solve the task step by step."]),
    # Chatter around the tags, a label inside, quotes around the prompt.
    ('Sure! Here is the improved prompt:\n<START>\nImproved prompt: "Think step by step. End with Answer: X."\n<END>'
     "\nI hope this helps!", ["Think step by step. End with Answer: X."]),
    ("<START>**Revised Instruction:** Count the steps.<END>", ["Count the steps."]),
    ("<START>New prompt 2: 'Count the steps.'<END>", ["Count the steps."]),
    # The last block never closed.
    ("Here you go:\n<START>Follow each move and track your position.", ["Follow each move and track your position."]),
    # A block that forgot <END> before the next one starts.
    ("<START>Prompt A: track position.\n\n<START>Prompt B: count turns.<END>",
     ["Prompt A: track position.", "Prompt B: count turns."]),
    ("<start>lower case tags<end>", ["lower case tags"]),
    ("<START>   <END><START>Second<END>", ["Second"]),
    ("<START>```\nFenced prompt\n```<END>", ["Fenced prompt"]),
])
def test_tagged_blocks(reply, expected):
    assert tagged_blocks(reply) == expected


def test_tagged_blocks_keep_inner_text_verbatim():
    # Braces, colons and quotes inside a prompt are its text, not markup.
    reply = '<START>Return JSON like {"answer": "Yes"}. Note: be brief.<END>'
    assert tagged_blocks(reply) == ['Return JSON like {"answer": "Yes"}. Note: be brief.']


@pytest.mark.parametrize("reply, expected", [
    ("<START>Too vague about turns.<END>\n<START>No format line.<END>", ["Too vague about turns.", "No format line."]),
    ("Reasons:\n1. Too vague about turns.\n2) No format line.\n3. Ignores negative steps.",
     ["Too vague about turns.", "No format line.", "Ignores negative steps."]),
    ("- Too vague\n* No format\n• Ignores steps", ["Too vague", "No format", "Ignores steps"]),
    ("The prompt does not explain turning.", ["The prompt does not explain turning."]),
    ("", []),
])
def test_parse_list(reply, expected):
    assert parse_list(reply) == expected


def test_fill_is_one_pass_and_leaves_unknown_braces():
    assert fill("{a} and {b} and {c}", a="{b}", b="B") == "{b} and B and {c}"
    assert fill('JSON like {"x": 1}', x="no") == 'JSON like {"x": 1}'
