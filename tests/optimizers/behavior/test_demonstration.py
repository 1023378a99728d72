"""Demonstrations: the checks that a worked example is fit to show, and the figures of a target copying its answer."""

from behavopt.optimizers.behavior import clean_demo, demo_length_problem, demo_problem
from behavopt.tasks import load_task
from behavopt.tasks.types import Example


def test_demo_check_requires_every_step_and_the_gold_answer():
    task = load_task("demo:object-counting")
    ex = Example(id="e", input="I have a violin and two pianos. How many musical instruments do I have?", target="3")
    steps = ["List the instruments.", "Add their numbers."]
    good = "Step 1: violin, two pianos\nStep 2: 1 + 2 = 3\nAnswer: 3"
    assert demo_problem(task, ex, good, steps) is None
    assert "step 2 is missing" in demo_problem(task, ex, "Step 1: x\nAnswer: 3", steps)
    assert "gold answer" in demo_problem(task, ex, "Step 1: x\nStep 2: y\nAnswer: 4", steps)
    assert "Answer:" in demo_problem(task, ex, "Step 1: x\nStep 2: 3", steps)
    assert "out of order" in demo_problem(task, ex, "Step 2: y\nStep 1: x\nAnswer: 3", steps)


def test_demo_check_refuses_repeated_extra_and_restated_steps():
    task = load_task("demo:object-counting")
    ex = Example(id="e", input="I have a violin and two pianos. How many musical instruments do I have?", target="3")
    steps = ["List the instruments.", "Add their numbers.", "Give the total."]
    # Qwen-1.5B's demonstration on BBH object_counting: the steps restated, then steps written again with results.
    echo_then_redo = ("Step 1: List the instruments.\nStep 2: Add their numbers.\nStep 3: Give the total.\n"
                      "Step 1: List the instruments:\n- violin\n- pianos: 2\nStep 2: 1 + 2 = 3\nAnswer: 3")
    assert demo_problem(task, ex, echo_then_redo, steps) == "step 1 is written 2 times"
    restated = "Step 1: List the instruments.\nStep 2: 1 + 2 = 3\nStep 3: 3\nAnswer: 3"
    assert demo_problem(task, ex, restated, steps) == "step 1 restates the step instead of giving its result for this input"
    extra = "Step 1: violin, two pianos\nStep 2: 1 + 2 = 3\nStep 3: 3\nStep 4: check: 3\nAnswer: 3"
    assert "step 4 is not in the procedure" in demo_problem(task, ex, extra, steps)
    # The last step's result is the answer line, and "Step 4: Answer: 3" is the answer line, not an extra step.
    last_restated = "Step 1: violin, two pianos\nStep 2: 1 + 2 = 3\nStep 3: Give the total.\nStep 4: Answer: 3"
    assert demo_problem(task, ex, last_restated, steps) is None


def test_demo_length_leaves_the_target_room_to_answer():
    assert demo_length_problem("x" * 300, 100) is None  # 75 tokens: three quarters of the budget
    assert demo_length_problem("x" * 301, 100) == (
        "about 76 tokens long: a target that may write 100 would be cut off before its answer (at most 75)")
    # The measured case: a 1417-character demonstration under the quick preset's 256 target tokens.
    assert demo_length_problem("x" * 1417, 256) is not None and demo_length_problem("x" * 652, 256) is None


def test_demo_check_requires_a_numeric_answer_to_be_worked_out():
    task = load_task("demo:object-counting")
    ex = Example(id="e", input="I have four nectarines, three bananas and a peach. How many fruits do I have?",
                 target="8")
    steps = ["List the objects.", "Count the objects listed.", "Compare the count to the number asked for."]
    # The real case (Qwen-1.5B, BBH object_counting): the gold number appears from nowhere after a count of 3.
    leaked = ("Step 1: nectarines, bananas, a peach\nStep 2: There are 3 objects.\n"
              "Step 3: The question asks for the total number of fruits, which is 8. There are 3 objects.\nAnswer: 8")
    assert demo_problem(task, ex, leaked, steps) == "the steps work out 3, not the answer 8"
    worked = "Step 1: four nectarines, three bananas, a peach\nStep 2: 4 + 3 + 1 = 8\nStep 3: 8 fruits\nAnswer: 8"
    assert demo_problem(task, ex, worked, steps) is None
    no_number = "Step 1: nectarines, bananas, a peach\nStep 2: several\nStep 3: the same\nAnswer: 8"
    assert demo_problem(task, ex, no_number, steps) == "the steps work out no number, not the answer 8"
    in_words = "Step 1: nectarines, bananas, a peach\nStep 2: four, three and one\nStep 3: eight\nAnswer: 8"
    assert demo_problem(task, ex, in_words, steps) is None


def test_clean_demo_drops_chatter():
    raw = "Sure, here it is!\n**Step 1:** violin\nStep 2: 1\n**Answer: 1**\nHope this helps."
    assert clean_demo(raw) == "Step 1: violin\nStep 2: 1\nAnswer: 1"
