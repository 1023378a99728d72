"""Behaviour prompts (ABO): a numbered procedure, the output format that labels every step, and the checks that say
whether a target's output followed it (adherence) and whether a demonstration is fit to show."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from behavopt.tasks.answers import answer_format, last_number, number_match
from behavopt.tasks.types import AnswerType, Example, Task

# The parts of a step label, shared by every pattern that reads one: "Step", its number, then a separator.
_STEP_WORD = r"^\s*[*#>\s]*step\s*"  # markdown (bold, heading, quote) may come before it
_STEP_SEP = r"\s*(?:\*\*)?\s*[:.)\-–]\s*(?:\*\*)?\s*"
# "Step 3: ...", "**Step 3.** ...", "step 3 - ..."
_STEP_LINE = re.compile(_STEP_WORD + r"(\d+)" + _STEP_SEP + r"(.*)$", re.I)
# Procedure lines as an optimizer writes them: "Step 1: ...", "1. ...", "1) ...". A sub-step label ("Step 4.1: ...",
# "4.1 ...") is not a step: read as one, Qwen-1.5B's "Step 4.1: Determine the count" became a step "1: Determine the
# count" at the end of the procedure, after its answer step (BBH object_counting, a Qwen-1.5B target).
_PROC_LINE = re.compile(r"(?:" + _STEP_WORD + r"(\d+)\s*[:.)\-–]|^\s*(\d+)\s*[.)])(?!\d)\s*(?:\*\*)?\s*(.+?)\s*$",
                        re.I)
_SUB_LABEL = re.compile(r"^sub-?step\s*[\d.]*\s*[:.)\-–]\s*", re.I)
_ANSWER_LINE = re.compile(r"^\s*[*#>\s]*(?:final\s+)?answer\s*[:\-]", re.I)


def parse_procedure(text: str) -> list[str]:
    """The steps of a procedure written by the optimizer, in order, renumbered from 1."""
    steps = []
    for line in text.replace("<START>", "\n").replace("<END>", "\n").splitlines():
        m = _PROC_LINE.match(line)
        if m and m.group(3).replace("*", "").strip():
            # Markdown emphasis ("**Count**: ...") is noise to the target and to step matching.
            step = m.group(3).replace("**", "").strip().strip("*").strip()
            # "Step 1: Sub-step 1.1: Understand the task" (Qwen-1.5B refining step 1): the inner label is noise.
            steps.append(_SUB_LABEL.sub("", step) or step)
    return steps


# "the correct answer", and the same by other names: "Check if the sum equals the expected total." (Qwen-1.5B
# refining an object counting step), "Compare the total count to the answer given in the example or problem
# statement." (an initial Qwen-1.5B procedure, same task), "Compare the count with the answer given" (the same, with a
# Qwen-1.5B target).
_GOLD_WORDS = re.compile(r"\b(?:correct|expected|gold)\s+(?:answer|total|result|count|output|label)\b", re.I)
# "the answer given" is the gold only where the inputs carry no answer of their own: BIG-bench question_selection
# inputs start "Short Answer: 8", and "Identify the short answer provided." (Qwen-1.5B) reads it.
_GIVEN_ANSWER = re.compile(r"\b(?:(?:given|provided)\s+answer|answer\s+(?:given|provided)(?:\s+in\b|[\s.]*$))", re.I)
COPY_WORDS = 6  # this many consecutive words of an example's input in a step: the step solves that example
# This many of one example's rarer words (in at most half of the inputs) in a step: the step lists that example's
# items ("The musical instruments are flute, piano, trombone, violin, ...") rather than a way to find them.
SPECIFIC_WORDS = 4
# "Answer: 8", "the answer is 12", and an option letter that ends the step: 'The letter of the correct option is
# "A".' (Qwen-1.5B refining step 4 of a question_selection procedure).
_STATED_ANSWER = re.compile(r"\banswer\s*(?:is|:)\s*\(?\d"
                            r"|\b(?:answer|option|letter)\s*(?:is|:)\s*[\"'(]*[A-Z][\"')]*[\s.]*$", re.I)


# One option singled out: "Examine the sarcastic statement in option (A) to ensure it accurately reflects the intended
# meaning." (Qwen-1.5B refining a BBH snarks step from errors whose gold was (A)). Naming two or more ("Compare (A)
# with (B).") is a way to choose; naming one steers every input toward it.
_OPTION = re.compile(r"\(([A-J])\)|\b(?:option|choice|statement)\s+([A-J])\b")


def _single_option(step: str) -> str | None:
    letters = {a or b for a, b in _OPTION.findall(step)}
    return letters.pop() if len(letters) == 1 else None


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def procedure_problem(steps: list[str], examples: list[Example]) -> str | None:
    """Why a procedure cannot guide the target on new inputs, or None. Seen in Qwen-1.5B's procedures: a step that
    checks against the correct answer (the target never sees it), and steps that replay one example's input
    ("Step 3: Take 5 steps backward.") instead of saying what to do with any input; and a step about one option only."""
    inputs = [_words(e.input) for e in examples]
    inputs_answer = any("answer" in w for w in inputs)
    grams = {tuple(w[i:i + COPY_WORDS]) for w in inputs for i in range(len(w) - COPY_WORDS + 1)}
    vocabularies = [set(w) for w in inputs]
    rare = _rare_words(vocabularies)
    named_in: dict[int, set[str]] = {}  # each step's rarer words, for items spread over several steps
    for n, step in enumerate(steps, 1):
        if _GOLD_WORDS.search(step) or (_GIVEN_ANSWER.search(step) and not inputs_answer):
            return f"step {n} refers to the correct answer, which the model never sees"
        if _STATED_ANSWER.search(step):
            return f"step {n} states an answer instead of an action"
        if (letter := _single_option(step)) is not None:
            return f"step {n} singles out option ({letter}) instead of saying how to choose among the options"
        w = _words(step)
        if any(tuple(w[i:i + COPY_WORDS]) in grams for i in range(len(w) - COPY_WORDS + 1)):
            return f"step {n} copies an example's input instead of saying what to do with any input"
        named = named_in[n] = set(w) & rare
        if any(len(named & vocabulary) >= SPECIFIC_WORDS for vocabulary in vocabularies):
            return f"step {n} lists one example's items instead of saying how to find them in any input"
    # The same items spread one per step: "Count the number of Pianos.", "Count the number of Snails.", ... (a
    # Qwen-1.5B refinement that turned one example's six animals into six steps).
    named_anywhere = set().union(*named_in.values())
    for vocabulary in vocabularies:
        if len(named_anywhere & vocabulary) >= SPECIFIC_WORDS:
            which = [str(n) for n, named in named_in.items() if named & vocabulary]
            return f"steps {', '.join(which)} list one example's items instead of saying how to find them in any input"
    return None


MAX_SUB_STEPS = 4


def _other_steps(steps: list[str], step: int) -> set[str]:
    """The parent's steps other than Step `step`, normalised for comparison with a reply's sub-steps."""
    return {_norm(s) for i, s in enumerate(steps, 1) if i != step}


def splice_refinement(steps: list[str], step: int, reply_steps: list[str]) -> list[str] | None:
    """The parent's procedure with Step `step` replaced by the optimizer's sub-steps, or None where the reply does not
    break that step down. Asked for the whole refined procedure, Qwen-1.5B kept the step count in 13 of 20
    refinements, shortened it in 5 (5 steps -> 2) and lengthened it in 2, so only the sub-steps are asked for and
    spliced in here. A reply that repeats another step of the parent is a rewrite of the whole procedure, not sub-steps
    (spliced in, that step would appear twice): it counts only when it is longer than the parent."""
    # The same sub-step written several times over (seen in bullet lists) is one sub-step.
    reply_steps = list({_norm(s): s for s in reply_steps}.values())
    others = _other_steps(steps, step)
    if any(_norm(s) in others for s in reply_steps):
        return reply_steps if len(reply_steps) > len(steps) else None
    if 1 <= len(reply_steps) <= MAX_SUB_STEPS:
        spliced = steps[:step - 1] + reply_steps + steps[step:]
        # "Sub-steps" that only restate the step leave the procedure as it was: nothing was broken down.
        return spliced if [_norm(s) for s in spliced] != [_norm(s) for s in steps] else None
    return None


def without_other_steps(sub_steps: list[str], steps: list[str], step: int) -> list[str]:
    """Labelled sub-steps of Step `step` less those that are another step of the parent word for word: that step
    carried along, which stays where it is. Seen with Qwen-1.5B on BBH object_counting: asked to break down step 3
    of 5, it wrote "Step 3a: Count the number of objects mentioned in the question." and "Step 3b: Compare the count
    to the number asked for (if any).", the parent's step 4. Refused whole, 6 refinements of that run were
    dropped; 4 of them are kept this way."""
    others = _other_steps(steps, step)
    return [s for s in sub_steps if _norm(s) not in others]


_BULLET = re.compile(r"^\s*(?:[-*•]|[a-z][.)])\s+(.+?)\s*$", re.I)


def bullets_under_step(reply: str, step: int) -> list[str]:
    """The bullet points written under "Step {step}:" in a reply. Seen with Qwen-1.5B on bigbench question_selection:
    asked for the sub-steps of one step, it repeats the whole procedure with bullet points under each step; the
    bullets under the failing step are the sub-steps asked for."""
    bullets: list[str] = []
    inside = False
    for line in reply.splitlines():
        head = _STEP_LINE.match(line)
        if head:
            if inside:
                break
            inside = int(head.group(1)) == step
            continue
        m = _BULLET.match(line)
        if inside and m:
            bullets.append(m.group(1).replace("**", "").strip())
    return bullets


def lettered_sub_steps(reply: str, step: int) -> list[str]:
    """The sub-steps of Step `step` labelled "Step 3a:", "Step 3B:" or "Step 3.1:" in a reply. Seen with Qwen-1.5B
    on BBH object_counting: asked for the sub-steps of step 3, it rewrote the procedure with step 3 split into
    "Step 3a: Count the number of vegetables listed." and "Step 3b: ..."."""
    label = re.compile(_STEP_WORD + rf"{step}\s*(?:[a-z]|\.\d+)" + _STEP_SEP + r"(.+?)\s*$", re.I)
    return [m.group(1).replace("**", "").strip() for m in map(label.match, reply.splitlines()) if m]


def _norm(step: str) -> str:
    return " ".join(_words(step))


# Words that say how to do a step, never which example it is about. In long inputs (BIG-bench question_selection's
# paragraphs) they are each in fewer than half of the inputs, so they counted as one example's items: "Determine the
# type of question that would have the given short answer as its answer." was refused, for "have", "that", "its"...
_FUNCTION_WORDS = frozenset("""
about above after again against all also and any are because been before being below between both but can could did
does doing down during each either few for from further had has have having her here hers him his how its itself
may might more most must not now off once only other our out over own same she should some such than that the their
them then there these they this those through too under until very was were what when where which while who whom
why will with would you your
determine find identify given provided select choose give write read look use using based step steps first next
last every one two three directly carefully relevant specific statements information
""".split())


def _rare_words(vocabularies: list[set[str]]) -> set[str]:
    """Words of 3+ letters found in at most half of the inputs, function words aside: the ones that tell one example
    from another."""
    inputs_with = Counter(word for vocabulary in vocabularies for word in vocabulary)
    return {word for word, k in inputs_with.items()
            if len(word) >= 3 and not word.isdigit() and k <= len(vocabularies) / 2 and word not in _FUNCTION_WORDS}


def procedure_text(task: Task, steps: list[str]) -> str:
    """What the target is told: the steps, and an output format that labels every step and ends in the answer."""
    numbered = "\n".join(f"Step {i + 1}: {s}" for i, s in enumerate(steps))
    labels = None
    options = next((e.options for e in task.examples if e.options), ())
    if options:
        labels = [label for label, _ in options]
    return (f"{task.instruction.strip()}\n\nFollow this procedure exactly.\n\n{numbered}\n\n"
            f"Write one line per step, from 'Step 1:' to 'Step {len(steps)}:', each giving the result of that step. "
            f"{answer_format(task.answer_type, labels)}")


@dataclass(frozen=True)
class StepOutput:
    steps: tuple[tuple[int, str], ...]  # (step number, text) in the order written
    answer_line: str | None

    def text_of(self, step: int) -> str | None:
        return next((t for n, t in self.steps if n == step), None)


def parse_step_output(text: str) -> StepOutput:
    """Split a target's output into labelled steps and the final answer line; tolerant of markdown and noise."""
    steps: list[tuple[int, str]] = []
    answer = None
    in_step = False
    for line in (text or "").splitlines():
        m = _STEP_LINE.match(line)
        if m:
            steps.append((int(m.group(1)), m.group(2).strip()))
            in_step = True
            if _ANSWER_LINE.match(m.group(2)):  # "Step 6: Answer: 8" is the last step and the answer line
                answer, in_step = m.group(2).strip(), False
        elif _ANSWER_LINE.match(line):
            answer, in_step = line.strip(), False
        elif in_step and line.strip():
            number, so_far = steps[-1]  # a step's text may run over several lines
            steps[-1] = (number, f"{so_far}\n{line.strip()}".strip())
    return StepOutput(tuple(steps), answer)


STEP_SHOWN_CHARS = 400  # of one step's text in a localisation prompt; a rambling step would crowd out the rest


def step_table(steps: list[str], output: str) -> str:
    """Each step of the procedure beside what the target wrote for it, for failing-step localisation."""
    parsed = parse_step_output(output)
    if not parsed.steps:
        asked = "\n".join(f"Step {k} asks: {step}" for k, step in enumerate(steps, 1))
        return f"{asked}\n\nThe model labelled no step. Its whole output:\n{output.strip()[:STEP_SHOWN_CHARS * 3]}"
    rows = []
    for k, step in enumerate(steps, 1):
        wrote = parsed.text_of(k)
        shown = " ".join(wrote.split())[:STEP_SHOWN_CHARS] if wrote else "(nothing: the step is missing)"
        rows.append(f"Step {k} asks: {step}\nThe model wrote: {shown}")
    return "\n\n".join(rows)


@dataclass(frozen=True)
class Adherence:
    n_steps: int
    present: tuple[bool, ...]  # per step 1..n: written with its label
    in_order: bool
    has_answer: bool

    @property
    def followed(self) -> bool:
        return all(self.present) and self.in_order and self.has_answer

    @property
    def first_missing(self) -> int | None:
        return next((i + 1 for i, p in enumerate(self.present) if not p), None)


def adherence(output: str | None, n_steps: int) -> Adherence:
    return parsed_adherence(parse_step_output(output or ""), n_steps)


def parsed_adherence(parsed: StepOutput, n_steps: int) -> Adherence:
    numbers = [n for n, _ in parsed.steps]
    present = tuple((i + 1) in numbers for i in range(n_steps))
    firsts = [numbers.index(i + 1) for i in range(n_steps) if (i + 1) in numbers]
    return Adherence(n_steps, present, firsts == sorted(firsts), parsed.answer_line is not None)


def demo_problem(task: Task, example: Example, output: str, steps: list[str]) -> str | None:
    """Why a demonstration cannot be shown (None when it can): it must write every step once, in order, with that
    step's result for this input, and reach the gold answer, or the target learns a wrong behaviour from it. Seen in
    Qwen-1.5B's demonstrations on BBH, which Qwen-0.5B then copied: steps 1-6 restated word for word and steps 4-6
    written again with their results; the whole procedure written six times over. A numeric answer must be worked
    out: the last number the steps write is the answer. Given the gold answer, Qwen-1.5B counted 9 fruits in step 3,
    then wrote "the total number of fruits, which is 13" (the gold) in step 4; a Qwen-1.5B target shown it answered 13
    to 11 of 25 dev questions (dev 0.20, the instruction 0.52; BBH object_counting)."""
    parsed = parse_step_output(output)
    adh = parsed_adherence(parsed, len(steps))
    if not all(adh.present):
        return f"step {adh.first_missing} is missing"
    if not adh.in_order:
        return "steps are out of order"
    if not adh.has_answer:
        return "no final 'Answer:' line"
    written = [(n, text) for n, text in parsed.steps if not _ANSWER_LINE.match(text)]
    counts = Counter(n for n, _ in written)
    repeated = next((n for n, k in sorted(counts.items()) if k > 1), None)
    if repeated is not None:
        return f"step {repeated} is written {counts[repeated]} times"
    extra = next((n for n in sorted(counts) if not 1 <= n <= len(steps)), None)
    if extra is not None:
        return f"step {extra} is not in the procedure, which has {len(steps)} steps"
    # The last step may restate itself ("Give the answer.") since the answer line below is its result.
    echoed = next((n for n, text in written if n < len(steps) and _norm(text) == _norm(steps[n - 1])), None)
    if echoed is not None:
        return f"step {echoed} restates the step instead of giving its result for this input"
    answer, correct = task.is_correct(output, example)
    if not correct:
        return f"reaches {answer!r}, not the gold answer {example.target!r}"
    if task.answer_type is AnswerType.NUMBER:
        worked = last_number("\n".join(text for _, text in written))
        if worked is None or not number_match(worked, example):
            return f"the steps work out {worked or 'no number'}, not the answer {example.target}"
    return None


# The target writes about as much as its demonstration shows (Qwen-1.5B on BBH snarks: 651 characters on average,
# 756 at most, under a 652-character demonstration), so a demonstration must leave room in the target's token budget
# for a longer input to still reach its answer line. A 1417-character one, under the quick preset's 256 tokens, had
# the target cut off before its answer on 33 of 37 inputs (dev 0.04, the instruction 0.52).
DEMO_SHARE_OF_TARGET_TOKENS = 0.75
CHARS_PER_TOKEN = 4  # English text in the Qwen and SmolLM2 tokenizers: about 4-5 characters a token


def demo_length_problem(output: str, target_max_tokens: int) -> str | None:
    """Why a demonstration is too long for the target to follow within its token budget, or None."""
    limit = int(target_max_tokens * DEMO_SHARE_OF_TARGET_TOKENS)
    tokens = -(-len(output) // CHARS_PER_TOKEN)  # rounded up
    if tokens <= limit:
        return None
    return (f"about {tokens} tokens long: a target that may write {target_max_tokens} would be cut off before its "
            f"answer (at most {limit})")


def clean_demo(output: str) -> str:
    """Keep only the labelled steps and the answer line of a demonstration, dropping chatter around them."""
    parsed = parse_step_output(output)
    lines = [f"Step {n}: {t}" for n, t in parsed.steps]
    if parsed.answer_line:
        lines.append(parsed.answer_line.strip("*# ").replace("**", ""))
    return "\n".join(lines)
