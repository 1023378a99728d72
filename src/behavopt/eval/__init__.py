"""Evaluation: score a candidate on a split with the target model."""

from behavopt.eval.evaluator import (
           EvalAborted,
           EvalRecord,
           EvalResult,
           EvalSettings,
           EvalSummary,
           Evaluator,
)
from behavopt.eval.prompts import InstructionPrompt, PromptCandidate
from behavopt.eval.stats import wilson_interval

__all__ = ["EvalAborted", "EvalRecord", "EvalResult", "EvalSettings", "EvalSummary", "Evaluator",
           "InstructionPrompt", "PromptCandidate", "wilson_interval"]
