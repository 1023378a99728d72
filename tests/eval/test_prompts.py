"""Prompt files: what the target is told (system, demonstration turns, a user template with {input}), saved and
loaded through one versioned JSON format."""

import json

import pytest

from behavopt.core.schema import SchemaError
from behavopt.eval.prompts import InstructionPrompt, Prompt, PromptSource, ScoredWith, SplitSpec
from behavopt.lm.types import Message
from behavopt.tasks.types import Example

EXAMPLE = Example("e1", 'I have {two} apples and a "pear". How many fruits?', "3")


@pytest.mark.parametrize("instruction", ["Count the fruits. Reply as JSON: {\"answer\": N}.", "", "  Be brief.  "])
def test_an_instruction_prompt_renders_as_the_instruction_does(instruction):
    assert Prompt.from_instruction(instruction).render(EXAMPLE) == InstructionPrompt(instruction).render(EXAMPLE)


def test_a_prompt_saves_and_loads_with_its_settings_and_source(tmp_path):
    prompt = Prompt(user="Answer briefly.\n\n{input}", system="You count.", turns=(Message("user", "q"),
                                                                                    Message("assistant", "a")),
                    scored_with=ScoredWith(model="local:smollm2-135m", max_tokens=96, seed=3),
                    source=PromptSource(task="demo:navigate", method="apo", candidate="c0004", dev_score=0.5,
                                        test_score=0.4, split=SplitSpec(12, 8, 10, 3)))
    path = prompt.save(tmp_path / "p.json")
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["user"] == "Answer briefly.\n\n{input}"
    assert Prompt.load(path) == prompt
    assert prompt.messages("2+2?") == [{"role": "system", "content": "You count."}, {"role": "user", "content": "q"},
                                       {"role": "assistant", "content": "a"},
                                       {"role": "user", "content": "Answer briefly.\n\n2+2?"}]


def test_a_hand_written_prompt_file_loads(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"system": "Be terse.", "user": "Review: {input}\nSentiment:"}))
    assert Prompt.load(path).messages("great") == [{"role": "system", "content": "Be terse."},
                                                   {"role": "user", "content": "Review: great\nSentiment:"}]


@pytest.mark.parametrize("data, message", [
    ({"user": "no field here"}, "has no {input} field"),
    ({"user": "JSON {\"a\": 1} then {input}"}, "double literal braces"),
    ({"user": "{input} and {other}"}, "not a format string with one field"),
    ({"user": "{input}", "schema_version": 2}, "schema_version 2"),
    ({"user": "{input}", "turns": [{"role": "robot", "content": "x"}]}, "turns.0.role"),
])
def test_a_bad_prompt_file_is_refused_in_one_line(tmp_path, data, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SchemaError) as err:
        Prompt.load(path)
    assert message in str(err.value) and str(path) in str(err.value) and "\n" not in str(err.value)
