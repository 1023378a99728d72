"""Diagnostics for the study of LLM prompt optimizers (Ma et al. 2024): pure logic on records, feedback texts and
per-seed scores, with the embedding model passed in as a function. (The pseudo-error control they use is an engine
control: `behavopt.optimizers.engine.pseudo_errors`.)

    runview        a run read back through its typed files
    repetition     Average Step Repetition Rate of the optimizer's feedback, lineages, threshold calibration
    refinement     fix rates on shown and other errors, regression rate, per refinement and aggregated
    similarity     cosine helpers and mean best-match similarity between two sets of texts
    stats          means over seeds with Student-t intervals, paired differences

Nothing is imported here, so `import behavopt.study` stays cheap; import the submodule you need.
"""
