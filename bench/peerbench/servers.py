"""The target's and the optimizer's servers: ones started by hand (waited for), or `behavopt serve` started here."""

from __future__ import annotations

import argparse
import contextlib
import re
import time

import harness

from behavopt.lm.serve_process import answers_models


def wait_ready(base_url: str, timeout_s: float) -> None:
    """Wait for a server this bench did not start (--base-url)."""
    url = re.sub(r"/v1/?$", "", base_url.rstrip("/")) + "/v1"
    deadline = time.monotonic() + timeout_s
    while not answers_models(url):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no answer from {url}/models after {timeout_s:.0f}s")
        time.sleep(2)


def start_servers(args: argparse.Namespace, stack: contextlib.ExitStack) -> tuple[str, str]:
    """The target's and the optimizer's `behavopt serve`, loading side by side; stopped when `stack` closes."""
    names = [args.target] + ([args.optimizer] if args.optimizer != args.target else [])
    extra = ["--llama-server", args.llama_server, "--parallel", str(args.parallel)] if args.llama_server else []
    servers = []
    for i, name in enumerate(names):
        server = harness.launch_serve(name, harness.RUNS / "peers" / f"serve-{name}.log", threads=args.serve_threads,
                                      extra=extra, port=args.port + i)
        stack.callback(server.stop)
        print(f"starting: {' '.join(server.argv)}", flush=True)
        servers.append(server)
    urls = [server.wait_ready(args.serve_timeout, poll_s=2) for server in servers]
    return urls[0].removesuffix("/v1"), urls[-1].removesuffix("/v1")
