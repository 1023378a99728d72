"""A run directory, the unit of reproducibility: config, events, checkpoint, records, best prompt and result.

    DIR/config.json          resolved settings (no secrets)
    DIR/events.jsonl         every LM-visible step, appended and flushed line by line
    DIR/checkpoint.json      the search state after the last finished step
    DIR/records/<cid>.jsonl  per-example records of each candidate (dev and train)
    DIR/best_prompt.txt      what the target sees for the best candidate
    DIR/result.json          the result
    DIR/STOP                 create it to end the run cleanly after the current step
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from behavopt.errors import ConfigError
from behavopt.runs.files import atomic_write_json, atomic_write_jsonl, atomic_write_text


class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    config_path = property(lambda self: self.path / "config.json")
    events_path = property(lambda self: self.path / "events.jsonl")
    checkpoint_path = property(lambda self: self.path / "checkpoint.json")
    result_path = property(lambda self: self.path / "result.json")
    best_prompt_path = property(lambda self: self.path / "best_prompt.txt")
    stop_path = property(lambda self: self.path / "STOP")

    def records_path(self, candidate_id: str) -> Path:
        return self.path / "records" / f"{candidate_id}.jsonl"

    def prepare(self, config: dict[str, Any], *, resume: bool,
                setting_defaults: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Create (or, with resume, reopen) the directory. Returns the checkpoint to resume from, if any.

        setting_defaults: a setting missing from a saved config (a run started before the setting existed) counts
        as its default, so adding a setting does not make older runs unresumable."""
        if resume:
            if not self.config_path.is_file():
                raise ConfigError(f"nothing to resume in {self.path}: no config.json there; drop --resume to start")
            saved = json.loads(self.config_path.read_text())
            if setting_defaults and isinstance(saved.get("settings"), dict):
                saved["settings"] = {**{k: v for k, v in setting_defaults.items()
                                        if k in (config.get("settings") or {})}, **saved["settings"]}
            diff = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
            if diff:
                raise ConfigError(f"--resume with other settings than {self.path} was started with ({', '.join(diff)}):"
                                  " use the same flags, or a new --out")
            self._drop_partial_event_line()
            return self.load_checkpoint()
        if self.path.exists() and any(self.path.iterdir()):
            raise ConfigError(f"{self.path} is not empty: pass --resume to continue that run, or choose a new --out")
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.config_path, config)
        return None

    def _drop_partial_event_line(self) -> None:
        # A crash mid-write can leave half a line; cut it so the log stays valid JSON lines.
        if not self.events_path.is_file():
            return
        data = self.events_path.read_bytes()
        if data and not data.endswith(b"\n"):
            atomic_write_text(self.events_path, data[: data.rfind(b"\n") + 1].decode("utf-8"))

    def event(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"t": round(time.time(), 3), "type": kind, **fields}, ensure_ascii=False)
        with open(self.events_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()

    def events(self) -> list[dict[str, Any]]:
        if not self.events_path.is_file():
            return []
        return [json.loads(line) for line in self.events_path.read_text().splitlines() if line.strip()]

    def save_checkpoint(self, state: dict[str, Any]) -> None:
        atomic_write_json(self.checkpoint_path, state)

    def load_checkpoint(self) -> dict[str, Any] | None:
        return json.loads(self.checkpoint_path.read_text()) if self.checkpoint_path.is_file() else None

    def save_records(self, candidate_id: str, records: list[dict[str, Any]]) -> None:
        atomic_write_jsonl(self.records_path(candidate_id), records)

    def load_records(self, candidate_id: str) -> list[dict[str, Any]]:
        path = self.records_path(candidate_id)
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def stop_requested(self) -> bool:
        return self.stop_path.exists()

    def save_result(self, result: dict[str, Any], best_prompt: str) -> None:
        atomic_write_text(self.best_prompt_path, best_prompt)
        atomic_write_json(self.result_path, result)
