"""The `behavopt` command."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from behavopt.cli import cache_cmd, models_cmd
from behavopt.cli.common import err_console
from behavopt.cli.eval_cmd import eval_command
from behavopt.cli.optimize_cmd import optimize_command
from behavopt.cli.report_cmd import compare_command, report_command
from behavopt.cli.serve_cmd import serve_command
from behavopt.cli.study_cmd import study_command
from behavopt.cli.sweep_cmd import sweep_command

app = typer.Typer(name="behavopt", no_args_is_help=True, add_completion=False,
                  help="Optimize what a target LLM is told, and see why it worked.")
app.add_typer(models_cmd.app, name="models")
app.add_typer(cache_cmd.app, name="cache")
app.command("eval")(eval_command)
app.command("serve")(serve_command)
app.command("optimize")(optimize_command)
app.command("study")(study_command)
app.command("report")(report_command)
app.command("compare")(compare_command)
app.command("sweep")(sweep_command)


def main(argv: list[str] | None = None) -> None:
    """The console command: a bad option or value is one line naming it and where the options are listed (click's
    own report is a framed block of five), exit 2."""
    try:
        code = app(args=argv, prog_name="behavopt", standalone_mode=False)
    except typer.Abort:
        err_console.print("[bold red]error:[/] interrupted", highlight=False)
        sys.exit(130)
    except TyperException as err:  # click's usage errors, as typer bundles them
        ctx = getattr(err, "ctx", None)
        if type(err).__name__ == "NoArgsIsHelpError" and ctx is not None:
            print(ctx.get_help())
            sys.exit(0)
        where = f"{ctx.command_path} --help" if ctx is not None else "behavopt --help"
        err_console.print(f"[bold red]error:[/] {err.format_message()} (see '{where}')",  # type: ignore[attr-defined]
                          highlight=False, soft_wrap=True)
        sys.exit(getattr(err, "exit_code", 2))
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
