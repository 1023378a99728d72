"""SQLite response cache, keyed on everything that can change a model's answer.

The database is created on first use, never at import. One connection per cache object, guarded by a lock, so
concurrent coroutines and threads are safe; WAL mode and a busy timeout make several processes safe too.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path

from behavopt.lm.types import ChatRequest, Completion

SCHEMA_VERSION = 1


def cache_key(backend_identity: str, request: ChatRequest) -> str:
    """A hash of the model identity (backend, model, file hash, load parameters) and every request field."""
    fields = asdict(request)
    if fields["json_schema"] is None:
        del fields["json_schema"]  # requests from before the field existed keep their keys, and their cached replies
    payload = {"v": SCHEMA_VERSION, "model": backend_identity, "request": fields}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT NOT NULL, "
                "completion TEXT NOT NULL, created REAL NOT NULL)")
            self._conn = conn
        return self._conn

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._connect().execute("SELECT completion FROM responses WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        # A fresh object on every hit: callers can never mutate what the cache holds.
        return Completion(**json.loads(row[0])).as_cached()

    def put(self, key: str, model: str, completion: Completion) -> None:
        data = asdict(completion)
        data["cached"] = False
        with self._lock:
            self._connect().execute(
                "INSERT OR REPLACE INTO responses(key, model, completion, created) VALUES (?,?,?,?)",
                (key, model, json.dumps(data, ensure_ascii=False), time.time()))

    def info(self) -> dict:
        if not self.path.exists():
            return {"path": str(self.path), "entries": 0, "bytes": 0, "models": {}}
        with self._lock:
            conn = self._connect()
            entries = conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            models = dict(conn.execute("SELECT model, COUNT(*) FROM responses GROUP BY model").fetchall())
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {"path": str(self.path), "entries": entries, "bytes": size, "models": models}

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        with self._lock:
            conn = self._connect()
            n = conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
            conn.execute("DELETE FROM responses")
            conn.execute("VACUUM")
        return n

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
