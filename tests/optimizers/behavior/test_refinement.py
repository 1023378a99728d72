"""Refinement: the failing step replaced by the optimizer's sub-steps, however its reply writes them. The replies
are real Qwen-1.5B replies to the sub-step request."""

from behavopt.optimizers.behavior import (MAX_SUB_STEPS, bullets_under_step, lettered_sub_steps, parse_procedure,
                                          splice_refinement, without_other_steps)

PARENT = ["Read the question.", "List each object with its count.", "Add the counts.", "Write the total."]


def test_sub_steps_replace_the_failing_step_and_the_rest_stays():
    subs = ["Start a running total at 0.", "For each listed object, add its count to the total."]
    assert splice_refinement(PARENT, 3, subs) == PARENT[:2] + subs + PARENT[3:]
    assert splice_refinement(PARENT, 1, ["Read every word."]) == ["Read every word."] + PARENT[1:]  # made explicit
    # A sub-step repeated (Qwen-1.5B wrote one bullet four times) counts once, keeping the order.
    assert splice_refinement(PARENT, 3, [subs[0], subs[1], subs[0], subs[1], subs[1]]) == PARENT[:2] + subs + PARENT[3:]


def test_a_reply_that_shortens_the_procedure_or_is_not_a_breakdown_is_refused():
    # Seen with Qwen-1.5B: a 5-step procedure "refined" into "Read the input" / "Sum the counts".
    assert splice_refinement(PARENT, 3, ["Read the question.", "Add the counts.", "Write the total."]) is None
    assert splice_refinement(PARENT, 3, ["Read the question.", "Add them."]) is None  # "Read the question." twice
    assert splice_refinement(PARENT, 3, []) is None
    assert splice_refinement(PARENT, 3, [f"Sub-step {i}." for i in range(MAX_SUB_STEPS + 1)]) is None


def test_a_rewritten_whole_procedure_counts_only_when_longer():
    longer = PARENT[:2] + ["Start at 0.", "Add each count to the running total."] + PARENT[3:]
    assert splice_refinement(PARENT, 3, longer) == longer
    same_length = PARENT[:2] + ["Sum the counts carefully."] + PARENT[3:]
    assert splice_refinement(PARENT, 3, same_length) is None


def test_sub_steps_that_restate_the_step_are_refused():
    # Seen on bigbench question_selection: the one "sub-step" was the step itself, so the child equalled its parent.
    assert splice_refinement(PARENT, 2, ["List each object with its count"]) is None


# A real Qwen-1.5B reply to the sub-step request (bigbench question_selection, step 1 failing): the whole procedure
# again, with bullet points under each step.
BULLETED_REPLY = """Step 1: Identify the short answer from the input.
- The model should look for the answer to the question in the input text.
- It should extract the key information that corresponds to the short answer.

Step 2: Determine the corresponding context in the input.
- The model should identify the part of the input text that contains the question.
"""
QS_STEPS = ["Identify the short answer from the input.", "Determine the corresponding context in the input.",
            "Locate the question in the context that has the given short answer as its answer.",
            "Select the letter of the correct option for the selected question."]


def test_bullets_under_the_failing_step_are_its_sub_steps():
    assert splice_refinement(QS_STEPS, 1, parse_procedure(BULLETED_REPLY)) is None  # 2 steps, no breakdown
    bullets = bullets_under_step(BULLETED_REPLY, 1)
    assert bullets == ["The model should look for the answer to the question in the input text.",
                       "It should extract the key information that corresponds to the short answer."]
    assert splice_refinement(QS_STEPS, 1, bullets) == bullets + QS_STEPS[1:]
    assert bullets_under_step(BULLETED_REPLY, 2) == ["The model should identify the part of the input text that "
                                                     "contains the question."]
    assert bullets_under_step(BULLETED_REPLY, 3) == [] and bullets_under_step("Step 1: Read.", 1) == []


# Real Qwen-1.5B replies to the sub-step request for step 3 (BBH object_counting): step 3 split as 3a/3b.
LETTERED_REPLY = """Step 1: Identify the question.
Step 2: List the objects mentioned in the question.
Step 3a: Count the number of vegetables listed.
Step 3b: Count the number of animals listed.
Step 4: Compare the counts to the number asked for (if any).
Step 5: Provide the answer."""
OC_STEPS = ["Identify the question.", "List the objects mentioned in the question.",
            "Count the number of objects listed.", "Compare the counts to the number asked for (if any).", "Provide the answer."]


def test_lettered_sub_steps_of_the_failing_step():
    assert splice_refinement(OC_STEPS, 3, parse_procedure(LETTERED_REPLY)) is None  # 3a/3b are not whole steps
    subs = lettered_sub_steps(LETTERED_REPLY, 3)
    assert subs == ["Count the number of vegetables listed.", "Count the number of animals listed."]
    assert splice_refinement(OC_STEPS, 3, subs) == OC_STEPS[:2] + subs + OC_STEPS[3:]
    bulleted = "Step 3A: List all the fruits mentioned.\n- Pianos: 4\n**Step 3.2:** Count each fruit.\nStep 4: Sum."
    assert lettered_sub_steps(bulleted, 3) == ["List all the fruits mentioned.", "Count each fruit."]
    assert lettered_sub_steps(LETTERED_REPLY, 2) == [] and lettered_sub_steps("Step 33: x\nStep 3: y", 3) == []


# Another real reply (a study run, seed 0): 3b is the parent's step 4 carried along.
COMPARE_STEPS = ["Identify the question.", "List the objects mentioned in the question.",
                 "Count the number of objects listed.", "Compare the count to the number asked for (if any).",
                 "Provide the answer."]
CARRIED_REPLY = """Step 1: Identify the question.
Step 2: List the objects mentioned in the question.
Step 3a: Count the number of objects mentioned in the question.
Step 3b: Compare the count to the number asked for (if any).
Step 4: Provide the answer.
Step 5: If the number of objects listed does not match the number asked for, provide an explanation or correction."""


def test_a_labelled_sub_step_that_is_another_step_stays_where_it_is():
    subs = lettered_sub_steps(CARRIED_REPLY, 3)
    assert splice_refinement(COMPARE_STEPS, 3, subs) is None  # spliced whole, step 4 would appear twice
    kept = without_other_steps(subs, COMPARE_STEPS, 3)
    assert kept == ["Count the number of objects mentioned in the question."]
    assert splice_refinement(COMPARE_STEPS, 3, kept) == COMPARE_STEPS[:2] + kept + COMPARE_STEPS[3:]
    # Nothing left once the other steps are removed: nothing was broken down.
    assert splice_refinement(COMPARE_STEPS, 3, without_other_steps([COMPARE_STEPS[3]], COMPARE_STEPS, 3)) is None


# A real Qwen-1.5B reply (BBH object_counting, Qwen-1.5B target): asked for the sub-steps of step 4, it worked the
# whole procedure on one example, then labelled the sub-steps "Step 4.1:" and "Step 4.2:".
DOTTED_REPLY = """Step 1: Identify the question
- The question asks how many musical instruments are mentioned in the input.

Step 4: Compare the count with the question
- The count of 4 instruments does not match the question's requirement of 11 instruments.

Step 5: Provide the answer
- The correct answer is "There are 4 musical instruments."

Here's the refined step 4 with two sub-steps:

Step 4: Compare the count with the question
- Step 4.1: Determine the count of items in the input.
- Step 4.2: Check if the count matches the question's requirements.

Step 4.1: Determine the count of items in the input
- The input states: "There are 4 musical instruments."

Step 4.2: Check if the count matches the question's requirements
- Since the input contains 4 items and the question requires 11 items, the count does not match.

Step 5: Provide the answer"""
DOTTED_STEPS = ["Identify the question", "List the items mentioned in the input", "Count the number of items",
                "Compare the count with the question", "Provide the answer"]


def test_dotted_sub_step_labels_are_not_steps():
    assert parse_procedure("Step 1: a\nStep 1.1: a one\n2.1 b one\n2. b") == ["a", "b"]
    # Read as steps, "Step 4.1:" became a step "1: Determine ..." after the answer step; now the reply is not a
    # whole procedure, and its labelled sub-steps replace step 4.
    assert splice_refinement(DOTTED_STEPS, 4, parse_procedure(DOTTED_REPLY)) is None
    subs = without_other_steps(lettered_sub_steps(DOTTED_REPLY, 4), DOTTED_STEPS, 4)
    assert splice_refinement(DOTTED_STEPS, 4, subs) == DOTTED_STEPS[:3] + [
        "Determine the count of items in the input", "Check if the count matches the question's requirements",
        "Provide the answer"]
