"""Procedures: reading the optimizer's steps, the checks that they can guide the target on new inputs, and the
text the target is told. The cases are real optimizer outputs that motivated each rule."""

from behavopt.optimizers.behavior import parse_procedure, procedure_problem, procedure_text
from behavopt.tasks import load_task
from behavopt.tasks.types import Example


def test_parse_procedure_accepts_the_usual_numberings():
    text = "Sure! Here is the procedure:\n1. List every item.\n2) Keep the asked category\n**Step 3:** Count them.\n"
    assert parse_procedure(text) == ["List every item.", "Keep the asked category", "Count them."]
    assert parse_procedure("<START>Step 1: a\nStep 2: b<END>") == ["a", "b"]
    assert parse_procedure("no steps here") == []
    assert parse_procedure("Step 1: Sub-step 1.1: Understand the task\nStep 2: Substep 2) Decide") == [
        "Understand the task", "Decide"]


def test_procedure_text_labels_every_step_and_keeps_the_answer_format():
    task = load_task("demo:navigate")
    text = procedure_text(task, ["Track the position.", "Compare with the start."])
    assert "Step 1: Track the position.\nStep 2: Compare with the start." in text
    assert "'Step 1:' to 'Step 2:'" in text and "Answer:" in text.splitlines()[-1]


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
