"""JSON replies (abo_replies=json): each purpose's schema is a valid JSON schema that llama.cpp can compile into a
grammar, holds what the checks would refuse, and each reply reads back into the text form the text parsers take."""

import json

import pytest

from behavopt.optimizers.behavior import demo_length_problem, parse_procedure, sub_steps_of
from behavopt.optimizers.behavior.replies import (as_text, demonstration_shape, localize_shape, procedure_shape,
                                                  sub_steps_shape)

jsonschema = pytest.importorskip("jsonschema")

SHAPES = {"procedure": procedure_shape(2, 12), "refine": sub_steps_shape(4), "localize": localize_shape(3),
          "demonstration": demonstration_shape(3, "(B)", 512)}


@pytest.mark.parametrize("purpose", sorted(SHAPES))
def test_each_schema_is_valid_and_compiles_to_a_llama_grammar(purpose):
    schema = SHAPES[purpose].schema
    jsonschema.Draft202012Validator.check_schema(schema)
    llama_grammar = pytest.importorskip("llama_cpp.llama_grammar")
    assert llama_grammar.json_schema_to_gbnf(json.dumps(schema))  # what llama.cpp decodes under
    assert "JSON only" in SHAPES[purpose].prompt("Task text.") and SHAPES[purpose].prompt("Task text.").startswith(
        "Task text.")


@pytest.mark.parametrize("purpose, reply, text", [
    ("procedure", '{"steps": ["List the items.", "Count\\n them."]}', "Step 1: List the items.\nStep 2: Count them."),
    ("refine", '{"sub_steps": ["Find the sign.", "Read the digits."]}',
     "Step 1: Find the sign.\nStep 2: Read the digits."),
    ("localize", '{"failing_step": 2, "reason": "It counted twice."}', "Failing step: 2\nReason: It counted twice."),
    ("demonstration", '{"steps": ["apple, pear", "2"], "answer": "2"}', "Step 1: apple, pear\nStep 2: 2\nAnswer: 2"),
    ("procedure", 'Step 1: not JSON at all', "Step 1: not JSON at all"),  # a server that ignored the schema
    ("procedure", '{"steps": ["cut off by the tok', '{"steps": ["cut off by the tok'),  # a reply cut short
    ("procedure", '["a list"]', '["a list"]'),
])
def test_a_json_reply_reads_back_as_the_text_reply_it_encodes(purpose, reply, text):
    assert as_text(purpose, reply) == text


def test_read_back_replies_go_through_the_text_parsers():
    assert parse_procedure(as_text("procedure", '{"steps": ["List the items.", "Count them."]}')) == [
        "List the items.", "Count them."]
    spliced = sub_steps_of(as_text("refine", '{"sub_steps": ["Find the sign.", "Read the digits."]}'),
                           ["Read the input.", "Find the number.", "Answer."], 2)
    assert spliced == ["Read the input.", "Find the sign.", "Read the digits.", "Answer."]


@pytest.mark.parametrize("purpose, reply", [
    ("procedure", {"steps": ["One step only."]}),  # below MIN_STEPS
    ("refine", {"sub_steps": ["a", "b", "c", "d", "e"]}),  # more than MAX_SUB_STEPS
    ("localize", {"failing_step": 4, "reason": "x"}),  # not a step of a 3-step procedure
    ("demonstration", {"steps": ["a", "b"], "answer": "(B)"}),  # a step left out
    ("demonstration", {"steps": ["a", "b", "c"], "answer": "(A)"}),  # not the gold answer
    ("demonstration", {"steps": ["a", "b", "c"], "answer": "(B)", "note": "chatter"}),
])
def test_a_schema_holds_what_a_check_would_refuse(purpose, reply):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(reply, SHAPES[purpose].schema)


@pytest.mark.parametrize("n_steps, target_max_tokens", [(2, 512), (6, 512), (12, 512), (4, 128), (3, 64)])
def test_the_longest_demonstration_a_schema_allows_passes_the_length_check(n_steps, target_max_tokens):
    schema = demonstration_shape(n_steps, "42", target_max_tokens).schema
    longest = schema["properties"]["steps"]["items"]["maxLength"]
    reply = {"steps": ["x" * longest] * n_steps, "answer": "42"}
    jsonschema.validate(reply, schema)
    assert demo_length_problem(as_text("demonstration", json.dumps(reply)), target_max_tokens) is None
