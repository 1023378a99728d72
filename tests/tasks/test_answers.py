"""Answer extraction and metrics, on realistic (and messy) small-model outputs."""

from __future__ import annotations

import pytest

from behavopt.tasks.answers import (answer_format, answer_lines, choice_match, compact_match, exact_match,
                                    extract_choice, extract_number, extract_text, extractor_for, last_number,
                                    metric_for, normalize, number_match, to_number, token_sequence_match,
                                    token_set_match)
from behavopt.tasks.types import AnswerType, Example

LETTERED = Example("ex-1", "This SVG path draws a\nOptions:\n(A) circle\n(B) heptagon\n(C) hexagon", "(B)",
                   options=(("(A)", "circle"), ("(B)", "heptagon"), ("(C)", "hexagon")))
YES_NO = Example("ex-2", "Do you return?", "No", options=(("Yes", "Yes"), ("No", "No")))
VALID = Example("ex-3", "Is it valid?", "invalid", options=(("valid", "valid"), ("invalid", "invalid")))
NUMBER = Example("ex-4", "How many?", "8")
TEXT = Example("ex-5", "Sort: b a", "a b")
ANY = Example("ex-6", "Translate: place", "Platz", answers=("Platz", "Ort", "Stelle"))


# --- normalisation and answer lines ---

@pytest.mark.parametrize("raw, norm", [
    ("  Hello   World. ", "hello world"),
    ('"Paris"', "paris"),
    ("'B'.", "b"),
    ("**Yes**!", "yes"),
    ("“quoted”", "quoted"),
    ("] ]", "] ]"),  # brackets are content, not punctuation
])
def test_normalize(raw: str, norm: str) -> None:
    assert normalize(raw) == norm


@pytest.mark.parametrize("output, last", [
    ("Answer: 8", "8"),
    ("reasoning...\nanswer: (B)\n", "(B)"),
    ("So the answer is Paris.", "Paris"),
    ("Final Answer: 42", "42"),
    ("**Final answer:** **No**", "No"),
    ("Answer:\n\n  Yes\n", "Yes"),
    ("Answer: 3\nWait, I miscounted.\nAnswer: 4", "4"),
    ("#### 18", "18"),
    (r"The result is \boxed{18}.", "18"),
    ("The answer (in dollars) is 5", "5"),
])
def test_answer_lines_takes_the_last_marker(output: str, last: str) -> None:
    assert answer_lines(output)[-1] == last


def test_answer_lines_skip_echoed_placeholders() -> None:
    assert answer_lines("I must end with 'Answer: <number>'.") == []
    assert answer_lines("Format: Answer: <answer>\nAnswer: 7") == ["7"]


def test_answer_lines_ignore_other_words() -> None:
    assert answer_lines("To answer this we count the items: 3 and 4.") == []
    assert answer_lines("Answering quickly: 5") == []


# --- numbers ---

@pytest.mark.parametrize("output, number", [
    ("Answer: 8", "8"),
    ("Answer: **8**", "8"),
    ("The answer is 8.", "8"),
    ("Answer: 8 musical instruments", "8"),
    ("Answer: 3 + 5 = 8", "8"),
    ("Answer: 8 (3 flutes + 5 pianos)", "8"),
    ("I count a piano (1), two flutes (3), a drum (4).\nSo in total I have 4 instruments.", "4"),
    ("Total: 1,234 apples", "1234"),
    ("Answer: $1,450,000.", "1450000"),
    ("Answer: -5", "-5"),
    ("((-1 + 2) * (3 - 4)) = -1", "-1"),
    ("5-3=2", "2"),
    ("Answer: 12.0", "12"),
    ("Answer: 0.5", "0.5"),
    ("Answer: seven", "7"),
    ("Answer: twenty-one", "21"),
    ("I have seven instruments in total.", "7"),
    ("Janet makes 9 * 2 = $18 a day.\n#### 18", "18"),
    (r"Therefore \boxed{18}", "18"),
    ("Answer:\n18", "18"),
    ("Answer: I am not sure. Maybe 6?", "6"),
    ("Answer: unknown\nBut counting again: 3 + 4 = 7", "7"),
])
def test_extract_number(output: str, number: str) -> None:
    assert extract_number(output, NUMBER) == number


@pytest.mark.parametrize("output", ["", "   ", "I don't know.", "Answer: none"])
def test_extract_number_none(output: str) -> None:
    assert extract_number(output, NUMBER) is None


def test_last_number_reads_every_number_form() -> None:
    assert last_number("a total of 1,250 items, 3.5 each") == "3.5"
    assert last_number("four, three and one make eight") == "8"  # number words where no digit is written
    assert last_number("**1,250**.") == "1250"
    assert last_number("no count here") is None


@pytest.mark.parametrize("answer, ok", [("8", True), ("8.0", True), ("8.0000001", True), ("08", True),
                                        ("8.01", False), ("9", False), ("eight", True), (None, False),
                                        ("abc", False), ("1,234", False)])
def test_number_match(answer: str | None, ok: bool) -> None:
    assert number_match(answer, NUMBER) is ok


def test_number_match_commas_and_negatives() -> None:
    assert number_match("1,234", Example("n", "q", "1234"))
    assert number_match("-3", Example("n", "q", "-3"))
    assert not number_match("3", Example("n", "q", "-3"))


@pytest.mark.parametrize("text, value", [("12", 12.0), ("12.0", 12.0), ("1,234", 1234.0), ("-5", -5.0),
                                         ("$18", 18.0), ("50%", 50.0), ("seven", 7.0), ("x", None), (None, None),
                                         ("nan", None), ("inf", None)])
def test_to_number(text: str | None, value: float | None) -> None:
    assert to_number(text) == value


# --- multiple choice ---

@pytest.mark.parametrize("output, got", [
    ("Answer: (B)", "(B)"),
    ("The answer is **B**.", "(B)"),
    ("answer: b)", "(B)"),
    ("Answer: B. heptagon", "(B)"),
    ("Answer: (B) heptagon", "(B)"),
    ("Answer: Option B", "(B)"),
    ("answer: b", "(B)"),
    ("Answer: 'B'", "(B)"),
    ("Final Answer: heptagon", "(B)"),
    ("Answer: The path has seven sides, so it is a heptagon (B).", "(B)"),
    ("Let us think. (A) is wrong and (C) has six sides. So (B).", "(B)"),
    ("(A) and (C) do not fit.\nB) heptagon", "(B)"),
    ("Answer: (B)\nActually, let me reconsider... Answer: (C)", "(C)"),
    ("It has seven corners: a heptagon.", "(B)"),
])
def test_extract_choice_lettered(output: str, got: str) -> None:
    assert extract_choice(output, LETTERED) == got


def test_extract_choice_does_not_read_articles_as_labels() -> None:
    # "A" starting a sentence is an article, "I" a pronoun: neither is an option label.
    assert extract_choice("Answer: A circle would have no corners, so (C)", LETTERED) == "(C)"
    assert extract_choice("Answer: I think it is a hexagon", LETTERED) == "(C)"


def test_extract_choice_nothing_found() -> None:
    assert extract_choice("I cannot tell.", LETTERED) is None
    # An answer line that names no option is still returned, so the metric can judge it (as wrong here).
    assert extract_choice("Answer: a pentagon", LETTERED) == "a pentagon"
    assert not choice_match("a pentagon", LETTERED)


@pytest.mark.parametrize("output, got", [
    ("Answer: No", "No"),
    ("**Answer:** no", "No"),
    ("Answer: No, you do not return to the starting point.", "No"),
    ("Yes... wait. Final answer: No", "No"),
    ("We end up 3 steps to the right, so no.", "No"),
    ("Answer:\n\nNo.", "No"),
    ("answer: YES", "Yes"),
])
def test_extract_choice_yes_no(output: str, got: str) -> None:
    assert extract_choice(output, YES_NO) == got


def test_extract_choice_word_boundaries() -> None:
    # "valid" is inside "invalid": only whole words count.
    assert extract_choice("Answer: invalid", VALID) == "invalid"
    assert extract_choice("The argument is invalid.", VALID) == "invalid"
    assert extract_choice("Answer: valid", VALID) == "valid"


@pytest.mark.parametrize("answer, ok", [("(B)", True), ("B", True), ("b", True), ("B)", True), ("heptagon", True),
                                        ("Heptagon.", True), ("(A)", False), ("circle", False), (None, False),
                                        ("", False)])
def test_choice_match(answer: str | None, ok: bool) -> None:
    assert choice_match(answer, LETTERED) is ok


def test_choice_match_yes_no_case_insensitive() -> None:
    assert choice_match("no", YES_NO) and choice_match("No.", YES_NO) and not choice_match("Yes", YES_NO)


def test_choice_with_repeated_option_texts() -> None:
    # A broken BBH example: the target spans options split at commas; any label of the run, or the text, counts.
    ex = Example("r", "q", "(I)", answers=("(I)", "(J)", "(K)", "dearth, wind, & fire"),
                 options=(("(A)", "eareth"), ("(B)", "wind"), ("(C)", "& fire"), ("(I)", "dearth"), ("(J)", "wind"),
                          ("(K)", "& fire")))
    for output in ["Answer: (I)", "Answer: (K)", "Answer: dearth, wind, & fire", "Answer: dearth"]:
        answer = extract_choice(output, ex)
        assert choice_match(answer, ex), (output, answer)
    assert not choice_match(extract_choice("Answer: (A)", ex), ex)


# --- text and any-of ---

@pytest.mark.parametrize("output, got", [
    ("Answer: a b", "a b"),
    ("The sorted words are:\na b", "a b"),
    ("Answer: `a b`", "a b"),
    ('Answer: "a b".', "a b"),
    ("", None),
    ("\n  \n", None),
])
def test_extract_text(output: str, got: str | None) -> None:
    assert extract_text(output, TEXT) == got


@pytest.mark.parametrize("answer, ok", [("a b", True), ("A  B.", True), ("'a b'", True), ("a, b", False),
                                        ("b a", False), (None, False)])
def test_exact_match(answer: str | None, ok: bool) -> None:
    assert exact_match(answer, TEXT) is ok


@pytest.mark.parametrize("answer, ok", [("Platz", True), ("ort", True), ("Stelle.", True), ("Haus", False)])
def test_any_of_match(answer: str, ok: bool) -> None:
    assert metric_for(AnswerType.ANY_OF)(answer, ANY) is ok


def test_token_metrics() -> None:
    ex = Example("w", "q", "apple banana cherry")
    assert token_sequence_match("apple, banana, cherry", ex)
    assert not token_sequence_match("banana apple cherry", ex)
    assert token_set_match("cherry, apple, banana", ex)
    assert not token_set_match("apple banana", ex)
    assert compact_match("]]>", Example("d", "q", "] ] >"))
    assert not compact_match("]>", Example("d", "q", "] ] >"))


def test_dispatch_by_answer_type() -> None:
    assert extractor_for(AnswerType.NUMBER) is extract_number
    assert extractor_for(AnswerType.CHOICE) is extract_choice
    assert extractor_for(AnswerType.TEXT) is extract_text
    assert extractor_for(AnswerType.ANY_OF) is extract_text
    assert metric_for(AnswerType.CHOICE) is choice_match
    assert metric_for(AnswerType.NUMBER) is number_match


def test_answer_format_sentences() -> None:
    assert answer_format(AnswerType.NUMBER) == "End your reply with a line 'Answer: <number>'."
    assert "'Answer: Yes' or 'Answer: No'" in answer_format(AnswerType.CHOICE, ["Yes", "No"])
    assert "(X)" in answer_format(AnswerType.CHOICE, ["(A)", "(B)"])
    assert "one of: a, b, c, d" in answer_format(AnswerType.CHOICE, ["a", "b", "c", "d"])
    assert "<answer>" in answer_format(AnswerType.TEXT)
