import pytest

from behavopt.optimizers.behavior import (MAX_SUB_STEPS, adherence, bullets_under_step, clean_demo,
                                          demo_length_problem, demo_problem, lettered_sub_steps, parse_procedure,
                                          parse_step_output, procedure_problem, procedure_text, splice_refinement,
                                          step_table, without_other_steps)
from behavopt.tasks import load_task
from behavopt.tasks.types import Example


def test_parse_procedure_accepts_the_usual_numberings():
    text = "Sure! Here is the procedure:\n1. List every item.\n2) Keep the asked category\n**Step 3:** Count them.\n"
    assert parse_procedure(text) == ["List every item.", "Keep the asked category", "Count them."]
    assert parse_procedure("<START>Step 1: a\nStep 2: b<END>") == ["a", "b"]
    assert parse_procedure("no steps here") == []
    assert parse_procedure("Step 1: Sub-step 1.1: Understand the task\nStep 2: Substep 2) Decide") == [
        "Understand the task", "Decide"]


def test_parse_step_output_well_formed_and_malformed():
    out = parse_step_output("Step 1: violin, piano\nStep 2: both are instruments\n  still step 2\nStep 3: 2\n"
                            "Answer: 2")
    assert [n for n, _ in out.steps] == [1, 2, 3]
    assert out.text_of(2) == "both are instruments\nstill step 2" and out.answer_line == "Answer: 2"
    messy = parse_step_output("**Step 1.** list\n### step 2 - count\nThe answer is 3")
    assert [n for n, _ in messy.steps] == [1, 2] and messy.answer_line is None
    assert parse_step_output("").steps == () and parse_step_output(None).answer_line is None  # type: ignore[arg-type]


@pytest.mark.parametrize("output, present, in_order, answer, followed", [
    ("Step 1: a\nStep 2: b\nStep 3: c\nAnswer: 4", (True, True, True), True, True, True),
    ("Step 1: a\nStep 3: c\nAnswer: 4", (True, False, True), True, True, False),
    ("Step 2: b\nStep 1: a\nStep 3: c\nAnswer: 4", (True, True, True), False, True, False),
    ("Step 1: a\nStep 2: b\nStep 3: c", (True, True, True), True, False, False),
    ("The answer is 4.", (False, False, False), True, False, False),
])
def test_adherence(output, present, in_order, answer, followed):
    a = adherence(output, 3)
    assert (a.present, a.in_order, a.has_answer, a.followed) == (present, in_order, answer, followed)


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


def test_procedure_text_labels_every_step_and_keeps_the_answer_format():
    task = load_task("demo:navigate")
    text = procedure_text(task, ["Track the position.", "Compare with the start."])
    assert "Step 1: Track the position.\nStep 2: Compare with the start." in text
    assert "'Step 1:' to 'Step 2:'" in text and "Answer:" in text.splitlines()[-1]


def test_answer_written_as_the_last_step_counts_as_the_answer_line():
    out = parse_step_output("Step 1: list\nStep 2: Answer: 8")
    assert [n for n, _ in out.steps] == [1, 2] and out.answer_line == "Answer: 8"
    assert adherence("Step 1: list\nStep 2: Answer: 8", 2).followed


def test_markdown_emphasis_is_dropped_from_procedure_steps():
    assert parse_procedure("1. **Input Analysis**: read it\nStep 2: **Count** them") == ["Input Analysis: read it",
                                                                                         "Count them"]


def test_procedure_problem_catches_steps_that_cannot_work_on_new_inputs():
    ex = [Example(id="a", input="Take 5 steps backward. Take 8 steps forward. Turn around.", target="No")]
    assert procedure_problem(["Start at the origin.", "Add up forward and backward steps."], ex) is None
    assert procedure_problem(["Start.", "Take 5 steps backward. Take 8 steps."], ex) == \
        "step 2 copies an example's input instead of saying what to do with any input"
    assert procedure_problem(["Count.", "Check that the total matches the Correct Answer."], ex) == \
        "step 2 refers to the correct answer, which the model never sees"
    assert procedure_problem(["Take 5 steps backward or forward as told."], ex) is None  # 5 shared words: fine
    assert procedure_problem(["Count the steps.", "Answer: 8"], ex) == "step 2 states an answer instead of an action"
    assert procedure_problem(["Count.", "End with a line 'Answer: <number>'."], ex) is None
    assert procedure_problem(["Find the short answer.", 'The letter of the correct option is "A".'], ex) == \
        "step 2 states an answer instead of an action"
    assert procedure_problem(["Compare the options.", "The answer is (A), (B), (C) or (D)."], ex) is None
    assert procedure_problem(["Compare the options.", "Give the letter of the option that is a question."], ex) is None
    # "The answer given" is the gold, unless the inputs give an answer themselves (BIG-bench question_selection).
    given = ["Identify the short answer provided.", "Pick the question it answers."]
    assert procedure_problem(given, ex) == "step 1 refers to the correct answer, which the model never sees"
    short = [Example(id="q", input="Short Answer: 8 Context: They made eight appearances.", target="(A)")]
    assert procedure_problem(given, short) is None
    assert procedure_problem(["Recall the correct answer.", "Write it."], short) is not None
    # A Qwen-1.5B refinement on BBH snarks; naming every option is fine.
    one = "Examine the sarcastic statement in option (A) to ensure it accurately reflects the intended meaning."
    assert procedure_problem(["Read both statements.", one], ex) == \
        "step 2 singles out option (A) instead of saying how to choose among the options"
    both = ["Compare statement (A) with statement (B).", "Give the chosen option's letter."]
    assert procedure_problem(both, ex) is None


def test_procedure_problem_catches_a_step_that_lists_one_examples_items():
    # Seen in a Qwen-1.5B procedure for object counting: the step names the instruments of the example it read.
    ex = [Example(id="a", input="I have a flute, a piano, a trombone, four stalks of celery, a violin, an accordion, "
                                "a clarinet, a drum, and a trumpet. How many musical instruments do I have?", target="8"),
          Example(id="b", input="I have a cabbage, a yam, and a goat. How many vegetables do I have?", target="2"),
          Example(id="c", input="I have a piano, a cow, and two pigs. How many animals do I have?", target="3")]
    bad = ["Identify the category the question asks about.",
           "List the musical instruments mentioned. The musical instruments are flute, piano, trombone, violin, "
           "accordion, clarinet, drum, and trumpet."]
    assert procedure_problem(bad, ex) == \
        "step 2 lists one example's items instead of saying how to find them in any input"
    good = ["Find the category the question asks about (instruments, vegetables, animals, ...).",
            "List every item of that category with its quantity (a piano is 1, two pigs is 2).",
            "Add the quantities."]
    assert procedure_problem(good, ex) is None


def test_procedure_problem_catches_one_examples_items_spread_over_steps():
    # A Qwen-1.5B refinement of "Count each item." on bbh:object_counting, one step per animal of one train example.
    ex = [Example(id="a", input="I have four pianos, four snails, three chickens, a pig, a dog, and two cows. How many "
                                "animals do I have?", target="11"),
          Example(id="b", input="I have a cabbage, a yam, and a goat. How many vegetables do I have?", target="2"),
          Example(id="c", input="I have a flute, a cow, and two pigs. How many animals do I have?", target="3")]
    bad = ["Identify the objects mentioned in the question.", "List all the items mentioned.",
           "Count the number of items.", "Count the number of Pianos.", "Count the number of Snails.",
           "Count the number of Chickens.", "Count the number of Pig.", "Count the number of Dog.",
           "Sum the counts to get the total number of objects."]
    assert procedure_problem(bad, ex) == \
        "steps 4, 5, 6, 7, 8 list one example's items instead of saying how to find them in any input"
    assert procedure_problem(bad[:5] + bad[-1:], ex) is None  # two of its items named: an illustration, not a copy


def test_procedure_problem_catches_the_correct_answer_by_other_names():
    ex = [Example(id="a", input="I have a cow and two pigs. How many animals do I have?", target="3")]
    # From the same Qwen-1.5B run: a step that compares with an answer the target never sees.
    assert procedure_problem(["Calculate the total by adding up the counts.",
                              "Check if the sum equals the expected total."], ex) == \
        "step 2 refers to the correct answer, which the model never sees"
    assert procedure_problem(["Count each item.", "Compare the total count to the answer given in the example or "
                              "problem statement."], ex) == "step 2 refers to the correct answer, which the model never sees"
    assert procedure_problem(["Count the objects mentioned in the question",
                              "Compare the count with the answer given"], ex) == \
        "step 2 refers to the correct answer, which the model never sees"
    assert procedure_problem(["Count the given items.", "Write the total count."], ex) is None
    assert procedure_problem(["Count the items.", "Check the answer given by your count."], ex) is None


# ---- refinement: the failing step is replaced by its sub-steps -----------------------------------------------------

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


def test_step_table_puts_each_step_beside_what_the_target_wrote():
    steps = ["List the instruments.", "Add their numbers.", "Give the total."]
    table = step_table(steps, "Step 1: violin,\n  two pianos\nStep 3: 3\nAnswer: 3")
    assert table.split("\n\n") == ["Step 1 asks: List the instruments.\nThe model wrote: violin, two pianos",
                                   "Step 2 asks: Add their numbers.\nThe model wrote: (nothing: the step is missing)",
                                   "Step 3 asks: Give the total.\nThe model wrote: 3"]
    # An output without step labels is shown whole, so the optimizer can still judge it.
    unlabelled = step_table(steps, "I count 3.\nAnswer: 3")
    assert unlabelled.startswith("Step 1 asks: List the instruments.\nStep 2 asks:")
    assert unlabelled.endswith("The model labelled no step. Its whole output:\nI count 3.\nAnswer: 3")


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


def test_procedure_words_in_long_inputs_are_not_one_examples_items():
    # BIG-bench question_selection: long paragraphs, so "that", "has", "its", "would", "determine"... each occur in
    # fewer than half of the inputs. A Qwen-1.5B procedure made of them was refused as listing one example's items.
    ex = [Example(id="a", input="Short Answer: 8 Context: The Broncos have made eight appearances, and that is a record "
                                "which its fans would determine has lasted.", target="(A)"),
          Example(id="b", input="Short Answer: 1995 Context: The franchise was founded in 1995.", target="(B)"),
          Example(id="c", input="Short Answer: DNA Context: Paulinella chromatophora has chromatophore DNA of about "
                                "a million base pairs.", target="(C)")]
    generic = ["Identify the given short answer and its context.",
               "Determine the type of question that would have the given short answer as its answer.",
               "Choose the correct option from the provided options."]
    assert procedure_problem(generic, ex) is None
    specific = ["Read the context.", "Find the base pairs of Paulinella chromatophora DNA."]
    assert procedure_problem(specific, ex) == \
        "step 2 lists one example's items instead of saying how to find them in any input"
