"""Reports people look at: a self-contained HTML page for a run (RUN_DIR/report.html), for a study, and for runs set
side by side (compare.html), and optional MLflow tracking. Everything is read from the run and study directories'
typed files; nothing the engine decided is decided again here.

    caveats    what the scores alone hide (label shift, one answer, a copied demonstration)
    plots      the figures, as inline SVG (matplotlib)
    diff       a child's prompt against its parent's, word by word
    run        the run report's content, and writing report.html
    study      the study report
    compare    runs side by side: a table, their curves, paired tests
    tracking   MLflow logging of a finished run
"""
