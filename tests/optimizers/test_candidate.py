"""A candidate as a prompt file renders exactly the messages the candidate renders, in every style, so a saved
best prompt sends the same request bytes (and hits the same cache entries) as the run that scored it."""

import json

import pytest

from behavopt.eval.prompts import Prompt
from behavopt.lm.types import Message
from behavopt.optimizers.behavior import Procedure
from behavopt.optimizers.candidate import Candidate
from behavopt.tasks.types import Example

EXAMPLE = Example("e1", 'I have {two} apples and a "pear". How many fruits?', "3")


@pytest.mark.parametrize("style", ["instruction", "turns", "system"])
def test_a_candidate_as_a_prompt_renders_the_same_messages(style):
    c = Candidate("c0003", "Follow the steps {exactly}.\n\nStep 1: List.\nStep 2: Add.", "c0000", 1, "refine",
                  demos=(Message("user", "I have a {plum}."),
                         Message("assistant", "Step 1: plum\nStep 2: 1\nAnswer: 1")),
                  procedure=Procedure(steps=("List.", "Add."), demo_example="x", demo_answer="1"), style=style)
    prompt = c.as_prompt()
    assert prompt.render(EXAMPLE) == c.render(EXAMPLE)
    back = Prompt.from_dict(json.loads(json.dumps(prompt.to_dict())))
    assert back == prompt and back.render(EXAMPLE) == c.render(EXAMPLE)
    assert prompt.messages("hi")[-1] == {"role": "user", "content": c.render(Example("", "hi", ""))[-1].content}
