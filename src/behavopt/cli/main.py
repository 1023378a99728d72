"""The `behavopt` command."""

from __future__ import annotations

import typer

from behavopt.cli import cache_cmd, models_cmd
from behavopt.cli.eval_cmd import eval_command
from behavopt.cli.optimize_cmd import optimize_command
from behavopt.cli.serve_cmd import serve_command
from behavopt.cli.study_cmd import study_command

app = typer.Typer(name="behavopt", no_args_is_help=True, add_completion=False,
                  help="Optimize what a target LLM is told, and see why it worked.")
app.add_typer(models_cmd.app, name="models")
app.add_typer(cache_cmd.app, name="cache")
app.command("eval")(eval_command)
app.command("serve")(serve_command)
app.command("optimize")(optimize_command)
app.command("study")(study_command)


if __name__ == "__main__":  # pragma: no cover
    app()
