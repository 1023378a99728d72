"""The counting proxy: an OpenAI-compatible pass-through (a thread in this process) that counts every upstream chat
request and its tokens per (system, phase, role), fanning a request with n > 1 out into n counted requests."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


@dataclass
class Count:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: int = 0
    seconds: float = 0.0

    def add(self, other: Count) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.errors += other.errors
        self.seconds += other.seconds

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens, "tokens": self.prompt_tokens + self.completion_tokens,
                "errors": self.errors, "seconds": round(self.seconds, 3)}


_PATH = re.compile(r"^/s/([^/]+)/([^/]+)/(target|optimizer)(/.*)$")


def _usage_of(body: bytes) -> tuple[int, int]:
    """prompt/completion tokens of a chat response (JSON, or the last SSE chunk that carries usage)."""
    try:
        usage = json.loads(body).get("usage") or {}
    except (ValueError, AttributeError):
        usage = {}
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:") and '"usage"' in line:
                try:
                    usage = json.loads(line[5:]).get("usage") or usage
                except ValueError:
                    pass
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


class CountingProxy:
    """An OpenAI-compatible pass-through that counts LM calls and tokens per (system, phase, role).

    `upstreams` maps a role ("target", "optimizer") to a server's base URL (with or without /v1). Clients use
    `base_url(system, phase, role)`; the path tags every request, so concurrent systems never mix counts.
    """

    def __init__(self, upstreams: dict[str, str], *, fanout_n: bool = True, timeout_s: float = 1800.0):
        self.upstreams = {role: re.sub(r"/v1/?$", "", url.rstrip("/")) for role, url in upstreams.items()}
        self.fanout_n = fanout_n
        self._client = httpx.Client(timeout=timeout_s, limits=httpx.Limits(max_connections=64))
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str, str], Count] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- lifecycle
    def start(self) -> CountingProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                proxy._handle(self, "GET")

            def do_POST(self) -> None:
                proxy._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._client.close()

    def __enter__(self) -> CountingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and counts
    def base_url(self, system: str, phase: str, role: str) -> str:
        return f"{self.url}/s/{system}/{phase}/{role}/v1"

    def counts(self, system: str, phase: str | None = None, role: str | None = None) -> Count:
        total = Count()
        with self._lock:
            for (s, p, r), c in self._counts.items():
                if s == system and phase in (None, p) and role in (None, r):
                    total.add(c)
        return total

    def breakdown(self, system: str) -> dict[str, dict[str, Any]]:
        """Counts of one system per "phase/role"."""
        with self._lock:
            return {f"{p}/{r}": c.to_dict() for (s, p, r), c in sorted(self._counts.items()) if s == system}

    def _record(self, key: tuple[str, str, str], count: Count) -> None:
        with self._lock:
            self._counts.setdefault(key, Count()).add(count)

    # -- forwarding
    def _upstream(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> httpx.Response:
        return self._client.request(method, url, content=body, headers=headers)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        m = _PATH.match(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        if not m or m.group(3) not in self.upstreams:
            return self._reply(h, 404, json.dumps({"error": {"message": f"unknown proxy path {h.path}"}}).encode())
        system, phase, role, rest = m.groups()
        url = self.upstreams[role] + rest
        headers = {k: v for k, v in h.headers.items() if k.lower() in ("content-type", "authorization", "accept")}
        is_lm_call = method == "POST" and rest.rstrip("/").endswith("completions")
        if not is_lm_call:
            try:
                resp = self._upstream(method, url, body or None, headers)
            except httpx.HTTPError as err:
                return self._reply(h, 502, json.dumps({"error": {"message": f"upstream: {err}"}}).encode())
            return self._reply(h, resp.status_code, resp.content, resp.headers.get("content-type"))
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        n = int(payload.get("n") or 1) if isinstance(payload, dict) else 1
        if n > 1 and self.fanout_n and not payload.get("stream"):
            status, content, ctype = self._fan_out((system, phase, role), url, payload, n, headers)
        else:
            status, content, ctype = self._one((system, phase, role), url, body, headers)
        self._reply(h, status, content, ctype)

    def _one(self, key: tuple[str, str, str], url: str, body: bytes,
             headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        start = time.perf_counter()
        count = Count(calls=1)
        try:
            resp = self._upstream("POST", url, body, headers)
        except httpx.HTTPError as err:
            count.errors, count.seconds = 1, time.perf_counter() - start
            self._record(key, count)
            return 502, json.dumps({"error": {"message": f"upstream: {type(err).__name__}: {err}"}}).encode(), None
        count.seconds = time.perf_counter() - start
        if resp.status_code >= 400:
            count.errors = 1
        else:
            count.prompt_tokens, count.completion_tokens = _usage_of(resp.content)
        self._record(key, count)
        return resp.status_code, resp.content, resp.headers.get("content-type")

    def _fan_out(self, key: tuple[str, str, str], url: str, payload: dict, n: int,
                 headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        """n separate n=1 requests (each counted), merged into one response with n choices."""
        merged: dict[str, Any] | None = None
        choices: list[dict] = []
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for i in range(n):
            one = {**payload, "n": 1}
            if payload.get("seed") is not None:
                one["seed"] = int(payload["seed"]) + i
            status, content, ctype = self._one(key, url, json.dumps(one).encode(), headers)
            if status >= 400:
                return status, content, ctype
            data = json.loads(content)
            merged = merged or data
            for c in data.get("choices", [])[:1]:
                choices.append({**c, "index": len(choices)})
            for k in usage:
                usage[k] += int((data.get("usage") or {}).get(k) or 0)
        assert merged is not None
        merged["choices"], merged["usage"] = choices, usage
        return 200, json.dumps(merged).encode(), "application/json"

    @staticmethod
    def _reply(h: BaseHTTPRequestHandler, status: int, content: bytes, ctype: str | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype or "application/json")
        h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        h.wfile.write(content)
