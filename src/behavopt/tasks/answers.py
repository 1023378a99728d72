"""Answer extraction from free-form model output, and the metrics that score an extracted answer.

Small models rarely follow the answer format exactly, so extraction looks for the last explicit answer line
("Answer: X", "the answer is X", "Final answer: X", "#### X", "\\boxed{X}") and only then falls back to a
per-type guess over the whole output (the last number, the last option mentioned, the last line).
"""

from __future__ import annotations

import math
import re
from behavopt.tasks.types import AnswerType, Example, Extractor, Metric

# --- normalisation ---------------------------------------------------------------------------------------------

_QUOTES = "\"'`“”‘’«»"
_TRAILING_PUNCT = ".,;:!?。"


def _strip_markdown(text: str) -> str:
    # Bold/underline markers only: a single "*" is multiplication in arithmetic answers.
    return text.replace("**", "").replace("__", "")


def _strip_wrapping(text: str) -> str:
    """Remove surrounding whitespace, quotes and trailing punctuation, repeatedly ("'B'." -> "B")."""
    prev = None
    while prev != text:
        prev = text
        text = text.strip().rstrip(_TRAILING_PUNCT).strip()
        if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
            text = text[1:-1]
        elif len(text) >= 1 and (text[0] in _QUOTES) != (text[-1] in _QUOTES):
            # A lone quote left over from cutting a line ("'Answer: 8'" -> "8'").
            text = text.strip(_QUOTES)
    return text


def normalize(text: str) -> str:
    """Lowercase, collapse whitespace, drop surrounding quotes and trailing punctuation, for exact-match metrics."""
    text = _strip_wrapping(_strip_markdown(text))
    return " ".join(text.lower().split())


# --- numbers -----------------------------------------------------------------------------------------------------

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
NUMBER_WORDS.update({w: 20 + 10 * i for i, w in enumerate(_TENS)})
NUMBER_WORDS["hundred"] = 100  # "a hundred"

# A minus sign counts only when it is not a binary operator ("5-3" is 5 and 3, "= -3" is -3).
_NUM_RE = re.compile(r"(?:(?<![\w)\]])[-−–])?(?<![\d.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d])")
_WORD_NUM_RE = re.compile(
    r"\b(?:(" + "|".join(_TENS) + r")(?:[\s-](one|two|three|four|five|six|seven|eight|nine)\b)?|("
    + "|".join(sorted(_UNITS, key=len, reverse=True)) + r"|hundred))\b", re.I)


def _number_matches(text: str) -> list[tuple[int, float]]:
    out = []
    for m in _NUM_RE.finditer(text):
        s = m.group(0).replace(",", "").replace("−", "-").replace("–", "-")
        out.append((m.start(), float(s)))
    return out


def _word_number_matches(text: str) -> list[tuple[int, float]]:
    out = []
    for m in _WORD_NUM_RE.finditer(text):
        if m.group(1):
            value = NUMBER_WORDS[m.group(1).lower()] + (NUMBER_WORDS[m.group(2).lower()] if m.group(2) else 0)
        else:
            value = NUMBER_WORDS[m.group(3).lower()]
        out.append((m.start(), float(value)))
    return out


def to_number(text: str | None) -> float | None:
    """Parse a whole answer as a number: "1,234", "-5", "12.0", "$18", "seven". None if it is not one."""
    if text is None:
        return None
    s = _strip_wrapping(_strip_markdown(text)).strip().lstrip("$€£").rstrip("%").strip()
    s = s.replace(",", "").replace("−", "-")
    try:
        value = float(s)
    except ValueError:
        words = _word_number_matches(s)
        if len(words) == 1 and _WORD_NUM_RE.fullmatch(s.strip()):
            return words[0][1]
        return None
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    """12.0 -> "12", 0.5 -> "0.5": extracted numbers read like the gold targets."""
    if value == int(value) and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


# --- answer lines ------------------------------------------------------------------------------------------------

_MARKER_RE = re.compile(
    r"(?:\bfinal\s+answer\b|\banswer\b)(?:\s*\([^)\n]*\))?\s*(?:\bis\b|\bwas\b|\bwould\s+be\b|\bshould\s+be\b|=|:|-(?=\s))"
    r"\s*:?[ \t]*|^[ \t]*####[ \t]*", re.I | re.M)
_BOXED_RE = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_PLACEHOLDER_RE = re.compile(r"<[a-z][\w\s/|,.-]*>", re.I)


def answer_lines(output: str) -> list[str]:
    """Every explicit answer in the output, in order of appearance (so the last one is the final answer).

    An answer is what follows a marker up to the end of its line, or the next non-empty line when the marker
    ends the line ("Answer:\\n8"). Echoed placeholders from the instruction ("Answer: <number>") are skipped.
    """
    text = _strip_markdown(output)
    found: list[tuple[int, str]] = []
    for m in _MARKER_RE.finditer(text):
        rest = text[m.end():]
        line, _, after = rest.partition("\n")
        if not line.strip():
            line = next((ln for ln in after.split("\n") if ln.strip()), "")
        found.append((m.start(), line))
    for m in _BOXED_RE.finditer(text):
        found.append((m.start(), m.group(1)))
    found.sort(key=lambda p: p[0])
    values = []
    for _, value in found:
        value = _strip_wrapping(value)
        if value and not _PLACEHOLDER_RE.fullmatch(value):
            values.append(value)
    return values


def _last_line(output: str) -> str | None:
    for line in reversed(_strip_markdown(output).splitlines()):
        line = _strip_wrapping(line)
        if line:
            return line
    return None


# --- extractors --------------------------------------------------------------------------------------------------

def extract_text(output: str, example: Example | None = None) -> str | None:
    """The last answer line, else the last non-empty line."""
    lines = answer_lines(output)
    return lines[-1] if lines else _last_line(output)


def _number_in(text: str, *, first: bool) -> float | None:
    nums = _number_matches(text) or _word_number_matches(text)
    if not nums:
        return None
    return nums[0][1] if first else nums[-1][1]


def last_number(text: str) -> str | None:
    """The last number written in `text` (number words count only where no digit is written), formatted as answers
    are, or None."""
    value = _number_in(_strip_markdown(text), first=False)
    return None if value is None else format_number(value)


def extract_number(output: str, example: Example | None = None) -> str | None:
    """The number on the last answer line (after its last "=", if any), else the last number in the output."""
    for line in reversed(answer_lines(output)):
        # "Answer: 3 + 5 = 8 apples" -> 8; "Answer: 8 (3 + 5)" -> 8.
        value = _number_in(line.rsplit("=", 1)[-1], first=True)
        if value is not None:
            return format_number(value)
    return last_number(output)


_LABEL_RE = re.compile(r"^\([A-Z]\)$")
# A label at the start of an answer: "(B)", "B)", "B.", "B:", "B", "Option B", "option (B) Paris".
_LEADING_LABEL_RE = re.compile(r"^(?:option\s+\(?([A-Z])\b|\(([A-Z])\)|([A-Z])(?:[).:]|$))", re.I)
# A label mentioned anywhere: "(B)", "option B", or "B)" not glued to a word ("1B)" or "a)" in prose do not count).
_MENTION_LABEL_RE = re.compile(r"\(([A-Z])\)|(?<![\w(])([A-Z])\)|\b[Oo]ption\s+([A-Z])\b")


def _lettered(example: Example) -> dict[str, str]:
    """Letter -> label for options labelled "(A)", "(B)", ...; empty when options are plain texts (Yes/No)."""
    return {label[1]: label for label, _ in example.options if _LABEL_RE.match(label)}


def _canonical_text(text: str, example: Example) -> str:
    """An option text -> its label when the text belongs to exactly one option, else the text itself."""
    labels = [label for label, t in example.options if normalize(t) == normalize(text)]
    return labels[0] if len(labels) == 1 else text


def _choice_in(text: str, example: Example, *, whole_text: bool) -> str | None:
    lettered = _lettered(example)
    if not whole_text:
        clean = _strip_wrapping(text)
        # The whole line is one option's text ("Answer: Yes", "Answer: The quail is the rightmost").
        for _, opt in example.options:
            if normalize(clean) == normalize(opt):
                return _canonical_text(opt, example)
        m = _LEADING_LABEL_RE.match(clean)
        if m and lettered:
            letter = m.group(1) or m.group(2) or m.group(3)
            # A lowercase "a" opening a phrase is an article, not option (A); "(a)", "a)", "option a" and a lone
            # "a" still count.
            if letter.isupper() or not m.group(3) or clean[1:2] == ")" or len(clean) == 1:
                label = lettered.get(letter.upper())
                if label:
                    return label
    # The option mentioned last wins: models often discuss several before settling.
    best: tuple[int, int, str] | None = None
    if lettered:
        for m in _MENTION_LABEL_RE.finditer(text):
            label = lettered.get(m.group(1) or m.group(2) or m.group(3))
            if label and (best is None or (m.end(), m.end() - m.start()) > best[:2]):
                best = (m.end(), m.end() - m.start(), label)
    for _, opt in example.options:
        opt = opt.strip()
        if not opt:
            continue
        for m in re.finditer(r"(?<!\w)" + re.escape(opt) + r"(?!\w)", text, re.I):
            if best is None or (m.end(), m.end() - m.start()) > best[:2]:
                best = (m.end(), m.end() - m.start(), _canonical_text(opt, example))
    return best[2] if best else None


def extract_choice(output: str, example: Example) -> str | None:
    """The option chosen on the last answer line that names one, else the last option mentioned in the output.

    Returns the option's label ("(B)", or "Yes" where labels are the texts); the option text when several options
    share that text; the answer line itself when it names no option (the metric can still match it as text).
    """
    if not example.options:
        return extract_text(output, example)
    lines = answer_lines(output)
    for line in reversed(lines):
        got = _choice_in(line, example, whole_text=False)
        if got is not None:
            return got
    got = _choice_in(_strip_markdown(output), example, whole_text=True)
    if got is not None:
        return got
    return lines[-1] if lines else None


def extractor_for(answer_type: AnswerType) -> Extractor:
    return {AnswerType.NUMBER: extract_number, AnswerType.CHOICE: extract_choice}.get(answer_type, extract_text)


# --- metrics -----------------------------------------------------------------------------------------------------

def exact_match(answer: str | None, example: Example) -> bool:
    """Normalised exact match against the target (or any acceptable answer)."""
    if answer is None:
        return False
    a = normalize(answer)
    return any(a == normalize(gold) for gold in example.acceptable)


# TEXT and ANY_OF score the same way: TEXT examples simply have one acceptable answer.
any_of_match = exact_match


def number_match(answer: str | None, example: Example) -> bool:
    """Numeric equality within 1e-6 ("12.0" == "12", "1,234" == "1234")."""
    value = to_number(answer)
    if value is None:
        return False
    for gold in example.acceptable:
        g = to_number(gold)
        if g is not None and math.isclose(value, g, rel_tol=1e-9, abs_tol=1e-6):
            return True
    return False


def _as_label(answer: str, example: Example) -> str | None:
    """ "(b)", "B", "B)", "b." -> "(B)" when the example has such an option."""
    m = re.fullmatch(r"\(?([A-Za-z])\)?[.:]?", _strip_wrapping(answer))
    return _lettered(example).get(m.group(1).upper()) if m else None


def choice_match(answer: str | None, example: Example) -> bool:
    """Right when the answer is the right option's label or its text (or another acceptable answer)."""
    if answer is None:
        return False
    gold = set(example.acceptable)
    label = _as_label(answer, example)
    if label is not None and label in gold:
        return True
    a = normalize(answer)
    if any(a == normalize(g) for g in gold):
        return True
    # The text of a right option; several options may share a text (broken BBH option lists), any right one counts.
    return any(label in gold and a == normalize(text) for label, text in example.options)


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,;]+", normalize(text)) if t]


def token_sequence_match(answer: str | None, example: Example) -> bool:
    """Same words in the same order, however separated ("a, b c" == "a b c"): word sorting, letter lists."""
    if answer is None:
        return False
    return any(_tokens(answer) == _tokens(gold) for gold in example.acceptable)


def token_set_match(answer: str | None, example: Example) -> bool:
    """Same set of words in any order: list-the-members tasks whose gold order is arbitrary."""
    if answer is None:
        return False
    return any(sorted(set(_tokens(answer))) == sorted(set(_tokens(gold))) for gold in example.acceptable)


def compact_match(answer: str | None, example: Example) -> bool:
    """Equal once all whitespace is removed: bracket sequences ("]]" == "] ]")."""
    if answer is None:
        return False
    a = "".join(normalize(answer).split())
    return any(a == "".join(normalize(gold).split()) for gold in example.acceptable)


METRICS: dict[str, Metric] = {
    "exact": exact_match,
    "any_of": any_of_match,
    "number": number_match,
    "choice": choice_match,
    "token_sequence": token_sequence_match,
    "token_set": token_set_match,
    "compact": compact_match,
}


def metric_for(answer_type: AnswerType) -> Metric:
    return {AnswerType.NUMBER: number_match, AnswerType.CHOICE: choice_match,
            AnswerType.ANY_OF: any_of_match}.get(answer_type, exact_match)


def answer_format(answer_type: AnswerType, labels: list[str] | None = None) -> str:
    """The sentence every default instruction ends with: where and how to state the final answer."""
    if answer_type is AnswerType.NUMBER:
        return "End your reply with a line 'Answer: <number>'."
    if answer_type is AnswerType.CHOICE and labels:
        if all(_LABEL_RE.match(label) for label in labels):
            return "End your reply with a line 'Answer: (X)', where (X) is the letter of the correct option."
        if len(labels) <= 3:
            return "End your reply with a line " + " or ".join(f"'Answer: {label}'" for label in labels) + "."
        return "End your reply with a line 'Answer: <label>', where <label> is one of: " + ", ".join(labels) + "."
    return "End your reply with a line 'Answer: <answer>'."
