"""bench/peers.py's parts: the counting HTTP proxy every system talks through (proxy), one task's shared setting
(context), the systems compared (behavopt_runs, dspy_runs, gepa_runs, gathered in systems), the servers (servers)
and the results table and resume (report)."""

import os

# LiteLLM (under DSPy and GEPA) would fetch its model price list from GitHub at import: use the bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
