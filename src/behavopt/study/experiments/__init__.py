"""The study's experiments, one module each; `run_experiment` runs one by name and writes its report."""

from __future__ import annotations

EXPERIMENTS = ("pseudo-errors", "repetition", "paraphrase", "refinement")
