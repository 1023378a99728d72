"""Automatic Behavior Optimization: optimize what the target does, step by step, with a demonstration.

1. Initial candidates: the optimizer writes a numbered procedure from the task instruction and a few train examples;
   behavopt adds an output format that labels every step, and a demonstration: one train example worked through
   every step to the gold answer. A demonstration is checked before use and regenerated (bounded tries); then,
   with `abo_target_demos`, the target's own right output on a train example that passes the same check is taken;
   else the candidate is dropped.
2. The target answers with the behaviour prompt; its output is parsed into steps.
3. For each error, adherence is checked and the optimizer names the first step where the target went wrong.
4. The most frequent failing step is broken into finer sub-steps; the demonstration is redone for the new
   procedure and re-checked, on the same example, or on one with another answer where most errors shown give the
   demonstration's own answer (the target copied it).
5. Selection is the engine's beam search, as for every method.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from behavopt.eval.evaluator import EvalRecord
from behavopt.lm.types import Message
from behavopt.optimizers.behavior import (MAX_SUB_STEPS, BehaviorFigures, Procedure, adherence, behavior_figures,
                                          clean_demo, copied_demo_answer, demo_length_problem, demo_problem,
                                          parse_procedure, procedure_problem, procedure_text, step_table,
                                          sub_steps_of, written_when_right)
from behavopt.optimizers.behavior.replies import (ReplyShape, as_text, demonstration_shape, localize_shape,
                                                  procedure_shape, sub_steps_shape)
from behavopt.optimizers.candidate import Candidate, Proposal
from behavopt.optimizers.context import ProposalContext
from behavopt.optimizers.events import (CandidateDropped, DemoCopied, DemoFromTarget, DemoRejected, FailingStep,
                                         ProcedureRejected, ReplyUnusable)
from behavopt.optimizers.methods.common import render
from behavopt.optimizers.settings import RunSettings
from behavopt.tasks.answers import normalize
from behavopt.tasks.types import Example

MIN_STEPS, MAX_STEPS = 2, 12
EXAMPLES_FOR_PROCEDURE = 3
PROCEDURE_TRIES = 2  # a procedure that cannot work on new inputs is asked again once, then dropped
DEMO_MIN_TOKENS = 768  # a worked example is longer than a prompt; cut short it would fail its check
_FAILING = re.compile(r"failing\s+step\s*[:\-]?\s*(?:step\s*)?(\d+)", re.I)
_REASON = re.compile(r"reason\s*[:\-]\s*(.+)", re.I)


def shown_answer(record: EvalRecord) -> str:
    """The target's answer as the localizing prompt shows it, with the user's metric's feedback when it gave any."""
    answer = record.answer or "(no answer found)"
    return f"{answer}\n(Feedback on this output: {record.feedback.strip()})" if record.feedback else answer


class ABO:
    name = "abo"
    search = "beam"
    uses_errors = True
    shows_all_scores = False

    # ---- building blocks ---------------------------------------------------------------------------------------
    @staticmethod
    def steps_problem(steps: list[str], ctx: ProposalContext) -> str | None:
        """Why these steps cannot be a procedure (their number, or a check of procedure_problem), or None."""
        if not MIN_STEPS <= len(steps) <= MAX_STEPS:
            return f"procedure has {len(steps)} steps"
        return procedure_problem(steps, ctx.train)

    async def _ask(self, ctx: ProposalContext, purpose: str, prompt: str, shape: ReplyShape, **call: Any) -> str:
        """An optimizer call in the run's reply form: text, or JSON held to `shape` and read back as text, so that
        the same parsers and checks judge both."""
        if ctx.settings.abo.replies == "text":
            return await ctx.ask(purpose, prompt, **call)
        reply = await ctx.ask(purpose, shape.prompt(prompt), json_schema=shape.schema, **call)
        return as_text(purpose, reply)

    def _proposal(self, ctx: ProposalContext, steps: list[str], demo: tuple[Example, str] | None, parent: str,
                  origin: str, feedback: str | None = None, refined_step: int | None = None) -> Proposal:
        demos = (Message("user", demo[0].input), Message("assistant", demo[1])) if demo else ()
        procedure = Procedure(steps=tuple(steps), demo_example=demo[0].id if demo else None,
                              demo_answer=demo[0].target if demo else None, refined_step=refined_step)
        return Proposal(procedure_text(ctx.task, steps), parent, origin, feedback=feedback, demos=demos,
                        procedure=procedure, style=ctx.settings.abo.rendering)

    async def demonstration(self, ctx: ProposalContext, steps: list[str], parent: str | None,
                            prefer: Example | None = None,
                            avoid_answer: str | None = None) -> tuple[Example, str] | None:
        """A worked train example that follows every step and reaches the gold answer, or None after the tries.
        `avoid_answer`: draw only examples with another gold answer (the target copied this one). With
        `abo_demo_repair`, a retry sends the refused demonstration back with the check's reason, on the same example."""
        procedure = procedure_text(ctx.task, steps)
        pool = [e for e in ctx.train if normalize(e.target) != normalize(avoid_answer)] if avoid_answer else []
        refused: tuple[Example, str, str] | None = None  # the last refused demonstration: example, output, reason
        for attempt in range(ctx.settings.abo.demo_tries):
            if refused is not None and ctx.settings.abo.demo_repair:
                example, shown = refused[0], render("abo_demo_refused", problem=refused[2], previous=refused[1])
            else:
                example = prefer if (prefer is not None and attempt == 0) else ctx.rng.choice(pool or ctx.train)
                shown = ""
            shape = demonstration_shape(len(steps), example.target, ctx.settings.models.target_max_tokens)
            reply = await self._ask(ctx, "demonstration", render("abo_demo", procedure=procedure, refused=shown,
                                                                 input=example.input, answer=example.target),
                                    shape, parent=parent, sample=attempt,
                                    max_tokens=max(ctx.settings.models.optimizer_max_tokens, DEMO_MIN_TOKENS))
            output = clean_demo(reply)
            problem = (demo_problem(ctx.task, example, output, steps)
                       or demo_length_problem(output, ctx.settings.models.target_max_tokens))
            if problem is None:
                return example, output
            # An empty reply has nothing to correct: the next try draws afresh.
            refused = (example, output, problem) if output.strip() else None
            ctx.emit(DemoRejected(step=ctx.step, parent=parent, example=example.id, attempt=attempt, reason=problem))
            ctx.emit(ReplyUnusable(step=ctx.step, parent=parent, purpose="demonstration", reason=problem))
        if ctx.settings.abo.target_demos:
            return await self.target_demonstration(ctx, steps, parent, pool or ctx.train)
        return None

    async def target_demonstration(self, ctx: ProposalContext, steps: list[str], parent: str | None,
                                   pool: list[Example]) -> tuple[Example, str] | None:
        """The target's own output on a train example, where it is right and passes the demonstration's check: the
        target follows the procedure without a demonstration on `abo_target_demos` examples of `pool`."""
        examples = ctx.rng.sample(pool, min(ctx.settings.abo.target_demos, len(pool)))
        bare = Candidate("target-demo", procedure_text(ctx.task, steps), parent, ctx.step, "target-demo",
                         style=ctx.settings.abo.rendering)
        found = None
        for example, record in zip(examples, await ctx.target_attempts(bare, examples), strict=True):
            output = clean_demo(record.output or "")
            if record.correct and not (demo_problem(ctx.task, example, output, steps)
                                       or demo_length_problem(output, ctx.settings.models.target_max_tokens)):
                found = example, output
                break
        ctx.emit(DemoFromTarget(step=ctx.step, parent=parent, tried=tuple(e.id for e in examples),
                                example=found[0].id if found else None))
        return found

    async def _behavior(self, ctx: ProposalContext, steps: list[str], parent: str, origin: str,
                        prefer: Example | None = None, avoid_answer: str | None = None,
                        feedback: str | None = None, refined_step: int | None = None) -> Proposal | None:
        problem = self.steps_problem(steps, ctx)
        if problem:
            ctx.emit(CandidateDropped(step=ctx.step, parent=parent, reason=problem, steps=tuple(steps)))
            return None
        demo = None
        if ctx.settings.abo.demo:
            demo = await self.demonstration(ctx, steps, parent, prefer, avoid_answer)
            if demo is None:
                ctx.emit(CandidateDropped(step=ctx.step, parent=parent, reason="no demonstration passed the check"))
                return None
        return self._proposal(ctx, steps, demo, parent, origin, feedback=feedback, refined_step=refined_step)

    # ---- the method protocol -----------------------------------------------------------------------------------
    async def initial(self, ctx: ProposalContext, seed: Candidate, n: int) -> list[Proposal]:
        out = []
        for i in range(n):
            shown = ctx.exemplars(EXAMPLES_FOR_PROCEDURE)
            examples = "\n\n".join(f"Input:\n{e.input}\nCorrect answer: {e.target}" for e in shown)
            for attempt in range(PROCEDURE_TRIES):
                reply = await self._ask(ctx, "procedure", render("abo_procedure", instruction=seed.prompt,
                                                                 examples=examples),
                                        procedure_shape(MIN_STEPS, MAX_STEPS), parent=seed.id, sample=i + n * attempt)
                steps = parse_procedure(reply)
                unusable = self.steps_problem(steps, ctx)
                if unusable is not None:
                    ctx.emit(ReplyUnusable(step=ctx.step, parent=seed.id, purpose="procedure", reason=unusable))
                # Asked again only for a check's refusal: a reply with too few or too many steps is dropped below.
                problem = procedure_problem(steps, ctx.train)
                if problem is None or attempt == PROCEDURE_TRIES - 1:
                    break
                ctx.emit(ProcedureRejected(step=ctx.step, parent=seed.id, attempt=attempt, reason=problem,
                                           steps=tuple(steps)))
            proposal = await self._behavior(ctx, steps, seed.id, "behavior")
            if proposal:
                out.append(proposal)
        return out

    async def localize(self, ctx: ProposalContext, parent: Candidate, record: EvalRecord) -> tuple[int | None, str]:
        """The first step where the target went wrong on this error, and why (from the optimizer). Each step is shown
        beside what the target wrote for it, so the optimizer judges each step by its own output."""
        steps = list(parent.procedure.steps) if parent.procedure else []
        reply = await self._ask(ctx, "localize", render("abo_localize", instruction=ctx.task.instruction,
                                                        input=record.input,
                                                        step_table=step_table(steps, record.output or ""),
                                                        answer=record.target, model_answer=shown_answer(record)),
                                localize_shape(max(len(steps), 1)), parent=parent.id)
        m = _FAILING.search(reply)
        step = int(m.group(1)) if m and 1 <= int(m.group(1)) <= len(steps) else None
        if step is None:
            ctx.emit(ReplyUnusable(step=ctx.step, parent=parent.id, purpose="localize",
                                   reason="names no step of the procedure"))
        reason = _REASON.search(reply)
        return step, (reason.group(1).strip() if reason else reply.strip()[:300])

    async def propose(self, ctx: ProposalContext, parents: list[Candidate], n: int) -> list[Proposal]:
        out: list[Proposal] = []
        for parent in parents:
            if parent.procedure is None or not parent.procedure.steps:
                # The task's plain instruction: there is no procedure to refine yet, so write new ones.
                out += await self.initial(ctx, parent, n)
                continue
            out += await self.refine(ctx, parent, n)
        return out

    async def failing_steps(self, ctx: ProposalContext, parent: Candidate,
                            errors: list[EvalRecord]) -> tuple[Counter[int], dict[int, list[str]]]:
        """How many errors failed at each step, and the reasons given: the optimizer's localisation, or the first
        step the target did not write where the optimizer names none."""
        steps = parent.procedure.steps if parent.procedure else ()
        failing: Counter[int] = Counter()
        reasons: dict[int, list[str]] = {}
        for record in errors:
            adh = adherence(record.output, len(steps))
            step, reason = await self.localize(ctx, parent, record)
            if step is None and not adh.followed:
                step, reason = adh.first_missing or len(steps), "the step was not written as the procedure asks"
            if step is None:
                continue
            failing[step] += 1
            reasons.setdefault(step, []).append(reason)
            ctx.emit(FailingStep(step=ctx.step, parent=parent.id, example=record.id, failing_step=step, reason=reason,
                                 adherent=adh.followed))
        ctx.notes.setdefault("failing_steps", {})[parent.id] = {str(k): v for k, v in sorted(failing.items())}
        return failing, reasons

    async def refine(self, ctx: ProposalContext, parent: Candidate, n: int) -> list[Proposal]:
        """Children whose procedure breaks the most frequent failing steps into finer sub-steps."""
        assert parent.procedure is not None
        steps = list(parent.procedure.steps)
        errors = await ctx.errors(parent)
        if not errors:
            return []
        failing, reasons = await self.failing_steps(ctx, parent, errors)
        if not failing:
            return []
        ranked = [s for s, _ in failing.most_common()]
        demo_example = next((e for e in ctx.train if e.id == parent.procedure.demo_example), None)
        copied = copied_demo_answer(parent.procedure.demo_answer, errors)
        if copied:
            # The target gave the worked example's answer instead of working the steps: the refined procedure gets
            # a demonstration with another answer, so the search can tell copying from following.
            ctx.emit(DemoCopied(step=ctx.step, parent=parent.id, answer=copied, example=parent.procedure.demo_example))
            demo_example = None
        records = await ctx.train_records(parent) if ctx.settings.abo.successes else []
        out = []
        for i in range(n):
            step = ranked[i % len(ranked)]
            listed = "\n".join(f"Step {k + 1}: {s}" for k, s in enumerate(steps))
            shown = "\n".join(f"- {r}" for r in reasons[step])
            right = written_when_right(records, step, ctx.settings.abo.successes)
            if right:
                shown += (f"\n\nWhen the model got the answer right, it wrote this for Step {step}:\n"
                          + "\n".join(f"- {w}" for w in right))
            reply = await self._ask(ctx, "refine", render("abo_refine", steps=listed, step=step,
                                                          step_text=steps[step - 1], reasons=shown),
                                    sub_steps_shape(MAX_SUB_STEPS), parent=parent.id, sample=i)
            new_steps = sub_steps_of(reply, steps, step)
            if new_steps is None:
                ctx.emit(ReplyUnusable(step=ctx.step, parent=parent.id, purpose="refine",
                                       reason=f"does not break step {step} down"))
                ctx.emit(CandidateDropped(step=ctx.step, parent=parent.id,
                                          reason=f"the reply does not break step {step} down", reply=reply))
                continue
            problem = self.steps_problem(new_steps, ctx)
            if problem is not None:  # (the candidate is dropped below, with the reason)
                ctx.emit(ReplyUnusable(step=ctx.step, parent=parent.id, purpose="refine", reason=problem))
            feedback = f"Step {step} failed: " + " | ".join(reasons[step])
            proposal = await self._behavior(ctx, new_steps, parent.id, "refine", prefer=demo_example,
                                            avoid_answer=copied, feedback=feedback, refined_step=step)
            if proposal:
                out.append(proposal)
        return out

    def optimizer_calls(self, settings: RunSettings, parents: int) -> int:
        demo = 1 if settings.abo.demo else 0
        return parents * (settings.search.errors + settings.search.expand * (1 + demo))

    def candidate_figures(self, candidate: Candidate, dev_records: list[EvalRecord],
                          notes: dict[str, Any]) -> BehaviorFigures | None:
        """Adherence per step on dev, failing-step counts, and how often the demonstration's answer is given."""
        if candidate.procedure is None or not candidate.procedure.steps:
            return None
        return behavior_figures(candidate.procedure, style=candidate.style, demonstration=bool(candidate.demos),
                                dev_records=dev_records,
                                failing_step_counts=notes.get("failing_steps", {}).get(candidate.id, {}))
