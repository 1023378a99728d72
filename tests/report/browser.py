"""Opening a page in headless Chromium (Debian's chromium package; `make test` installs it where it can): the DOM
after its scripts ran, every console message (an uncaught error is one), every request it sent to the network, and
a screenshot. Chromium's proxy is a local server that records each request and answers none, so a page that needs
the network shows it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-default-apps", "--disable-sync",
         "--proxy-bypass-list=<-loopback>", "--enable-logging=stderr", "--v=0"]
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]\s*(.*)$")
# Chromium's own background services (network time, component and safe-browsing updates) call Google's hosts
# whatever the page; a request to any other host came from the page.
_CHROMIUM_OWN = re.compile(r"^(?:CONNECT |\w+ https?://)[\w.-]*\b(?:google\.com|googleapis\.com|gstatic\.com|"
                           r"gvt1\.com)\b")


def chromium() -> str | None:
    return os.environ.get("BEHAVOPT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class _Recorder(BaseHTTPRequestHandler):
    seen: list[str]

    def _record(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_error(502)

    do_GET = do_POST = do_HEAD = do_CONNECT = _record

    def log_message(self, *args: object) -> None:  # quiet
        return None


class NetworkRecorder:
    """A proxy that records every request and refuses it."""

    def __enter__(self) -> NetworkRecorder:
        handler = type("Handler", (_Recorder,), {"seen": []})
        self.requests: list[str] = handler.seen
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.address = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass(frozen=True)
class Page:
    dom: str
    console: list[str]  # every console message: the reports' own code writes none
    requests: list[str]  # every request the page sent to the network


def _run(binary: str, args: list[str], profile: Path, proxy: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, *FLAGS, f"--proxy-server={proxy}", f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def open_page(path: Path, screenshot: Path, size: tuple[int, int] = (1280, 1600)) -> Page:
    binary = chromium()
    assert binary, "no chromium"
    url = path.resolve().as_uri()
    profile = screenshot.parent / f".chromium-{screenshot.stem}"
    with NetworkRecorder() as network:
        loaded = _run(binary, ["--dump-dom", url], profile, network.address)
        _run(binary, [f"--screenshot={screenshot}", f"--window-size={size[0]},{size[1]}", url], profile,
             network.address)
    shutil.rmtree(profile, ignore_errors=True)
    console = [m.group(1) for line in loaded.stderr.splitlines() if (m := _CONSOLE.search(line))]
    return Page(loaded.stdout, console, [r for r in network.requests if not _CHROMIUM_OWN.match(r)])
