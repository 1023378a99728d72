"""A fault-injecting HTTP proxy on loopback, for tests: it forwards OpenAI-style requests to a real server and, at a
set rate, answers instead with one of the failures real servers produce.

    429        rate limited, with Retry-After
    500, 503   server errors
    hang       no answer until the client gives up (past its timeout)
    drop       the connection closed without a response
    truncated  a 200 whose body stops half-way
    garbage    a 200 whose body is not JSON

Faults are drawn from a seeded generator, so a run sees the same faults in the same order each time. Also a static
upstream that answers every chat request with one fixed completion, for tests that need no model.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

import httpx

KINDS = ("429", "500", "503", "hang", "drop", "truncated", "garbage")

COMPLETION = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
              "choices": [{"index": 0, "message": {"role": "assistant", "content": "Answer: 4"},
                           "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}}


async def read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str], bytes] | None:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method_path = lines[0]
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return method_path, headers, body


def response(status: int, body: bytes, *, reason: str = "OK", extra: dict[str, str] | None = None,
             length: int | None = None) -> bytes:
    headers = {"content-type": "application/json", "content-length": str(len(body) if length is None else length),
               "connection": "close", **(extra or {})}
    return (f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
            ).encode() + body


@dataclass
class LoopbackServer:
    """An asyncio server on 127.0.0.1 in a thread of its own; `handle` answers one connection."""

    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _server: asyncio.AbstractServer | None = field(default=None, repr=False)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.handle(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def __enter__(self) -> "LoopbackServer":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._server is not None and self._thread is not None
        server = self._server

        async def shut() -> None:  # connections still open (a hang) are cancelled, not left to a closed loop
            server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            await asyncio.sleep(0)
            asyncio.get_running_loop().stop()

        asyncio.run_coroutine_threadsafe(shut(), self._loop)
        self._thread.join(10)


class StaticUpstream(LoopbackServer):
    """Answers every request with COMPLETION."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(response(200, json.dumps(COMPLETION).encode()))
        await writer.drain()


@dataclass
class FaultyProxy(LoopbackServer):
    """Forwards to `upstream` (…/v1); a request meets a fault with probability `rate`, of a kind drawn from `kinds`.
    `hang_s` should pass the client's timeout. `injected` counts the faults by kind, `forwarded` the rest."""

    upstream: str = ""
    rate: float = 0.2
    kinds: tuple[str, ...] = KINDS
    seed: int = 0
    hang_s: float = 5.0
    # Requests whose body holds one of these texts always fail, with the first of `kinds` (an outage for some inputs).
    always: tuple[str, ...] = ()
    injected: Counter = field(default_factory=Counter)
    forwarded: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> str | None:
        if self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.kinds)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method_path, headers, body = await read_request(reader)
        text = body.decode("utf-8", "replace")
        fault = self.kinds[0] if any(json.dumps(t)[1:-1] in text for t in self.always) else self.draw()
        if fault is not None:
            self.injected[fault] += 1
            await self.inject(fault, writer)
            return
        method, path, _ = method_path.split(" ", 2)
        upstream = self.upstream.rstrip("/").removesuffix("/v1") + path
        async with httpx.AsyncClient(timeout=600) as client:
            forwarded = await client.request(method, upstream, content=body,
                                             headers={"content-type": headers.get("content-type", "")})
        self.forwarded += 1
        writer.write(response(forwarded.status_code, forwarded.content))
        await writer.drain()

    async def inject(self, fault: str, writer: asyncio.StreamWriter) -> None:
        error = json.dumps({"error": {"message": f"injected {fault}", "type": "server_error"}}).encode()
        if fault == "429":
            writer.write(response(429, error, reason="Too Many Requests", extra={"retry-after": "0"}))
        elif fault in ("500", "503"):
            writer.write(response(int(fault), error, reason="Server Error"))
        elif fault == "hang":
            await asyncio.sleep(self.hang_s)
            return
        elif fault == "drop":
            return
        elif fault == "truncated":
            body = json.dumps(COMPLETION).encode()
            writer.write(response(200, body[: len(body) // 2], length=len(body)))
        elif fault == "garbage":
            writer.write(response(200, b"<html>502 Bad Gateway</html>"))
        await writer.drain()
