"""A run directory, the unit of reproducibility: config, events, checkpoint, records, best prompt and result.

    DIR/config.json          RunConfig: the resolved settings (no secrets)
    DIR/events.jsonl         every event (optimizers.events), appended and flushed line by line
    DIR/checkpoint.json      SearchState after the last finished step
    DIR/records/<cid>.jsonl  per-example records of each candidate (train, dev and test), each with its split
    DIR/best_prompt.txt      what the target sees for the best candidate, as text
    DIR/best_prompt.json     the same as a prompt file (behavopt.Prompt: system, turns, user template with {input})
    DIR/result.json          OptimizationResult
    DIR/STOP                 create it to end the run cleanly after the current step
    DIR/.lock                held (flock) by the process writing the run; a second one is refused

Every JSON file carries a schema_version and is read back through its typed object: an older version is upgraded,
an unknown one refused with one line.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from behavopt.core.errors import ConfigError
from behavopt.core.files import atomic_write_json, atomic_write_jsonl, atomic_write_text, writable_dir
from behavopt.core.schema import SchemaError, plain, read_json, typed
from behavopt.eval.evaluator import EvalRecord
from behavopt.optimizers.config import CONFIG_FORMAT, RunConfig
from behavopt.optimizers.engine.state import SearchState
from behavopt.optimizers.events import Event, parse_line, upgrade_lines
from behavopt.optimizers.result import OptimizationResult


LOCK_NAME = ".lock"


class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the directory for this process while it writes the run: a second process is refused, not interleaved.
        The lock (flock) ends with the process, so a run killed mid-way leaves nothing to clean up."""
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} is a file: pass a directory as --out")
        created = not self.path.exists()
        writable_dir(self.path)
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(f"{self.path} is in use by another behavopt process (pid {holder}): wait for it to end, "
                              "or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            if created and [p.name for p in self.path.iterdir()] == [LOCK_NAME]:  # refused before writing anything
                (self.path / LOCK_NAME).unlink()
                self.path.rmdir()

    config_path = property(lambda self: self.path / "config.json")
    events_path = property(lambda self: self.path / "events.jsonl")
    checkpoint_path = property(lambda self: self.path / "checkpoint.json")
    result_path = property(lambda self: self.path / "result.json")
    best_prompt_path = property(lambda self: self.path / "best_prompt.txt")
    best_prompt_json_path = property(lambda self: self.path / "best_prompt.json")
    stop_path = property(lambda self: self.path / "STOP")

    def records_path(self, candidate_id: str) -> Path:
        return self.path / "records" / f"{candidate_id}.jsonl"

    # ---- config ----------------------------------------------------------------------------------------------------
    def prepare(self, config: RunConfig, *, resume: bool) -> SearchState | None:
        """Create (or, with resume, reopen) the directory. Returns the state to resume from, if any. A resumed run
        must have been started with the same configuration; a setting added to behavopt since counts as its
        default."""
        if resume:
            if not self.config_path.is_file():
                raise ConfigError(f"nothing to resume in {self.path}: no config.json there; drop --resume to start")
            diff = self.load_config().differences(config)
            if diff:
                raise ConfigError(f"--resume with other settings than {self.path} was started with ({', '.join(diff)}):"
                                  " use the same flags, or a new --out")
            self._drop_partial_event_line()
            return self.load_checkpoint()
        if self.path.exists() and any(p.name != LOCK_NAME for p in self.path.iterdir()):
            raise ConfigError(f"{self.path} is not empty: pass --resume to continue that run, or choose a new --out")
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.config_path, CONFIG_FORMAT.stamp(plain(config)))
        return None

    def load_config(self) -> RunConfig:
        data = read_json(self.config_path, "reading a run")
        return typed(RunConfig, CONFIG_FORMAT.current(data, str(self.config_path)), str(self.config_path))

    # ---- events ----------------------------------------------------------------------------------------------------
    def _drop_partial_event_line(self) -> None:
        # A crash mid-write can leave half a line; cut it so the log stays valid JSON lines.
        if not self.events_path.is_file():
            return
        data = self.events_path.read_bytes()
        if data and not data.endswith(b"\n"):
            atomic_write_text(self.events_path, data[: data.rfind(b"\n") + 1].decode("utf-8"))

    def write_event(self, event: Event) -> None:
        line = json.dumps(event.to_line(round(time.time(), 3)), ensure_ascii=False)
        with open(self.events_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()

    def events(self) -> list[Event]:
        """Every event, typed, in the order written (an older file's lines upgraded)."""
        if not self.events_path.is_file():
            return []
        source = str(self.events_path)
        lines = []
        for n, text in enumerate(self.events_path.read_text(encoding="utf-8").splitlines(), 1):
            if text.strip():
                try:
                    lines.append(json.loads(text))
                except json.JSONDecodeError as err:
                    raise SchemaError(f"{source} line {n} is not valid JSON ({err}): the file is damaged; restore it "
                                      "or start a new run directory") from None
        return [parse_line(line, f"{source}") for line in upgrade_lines(lines)]

    # ---- checkpoint, records, result ---------------------------------------------------------------------------------
    def save_checkpoint(self, state: SearchState) -> None:
        atomic_write_json(self.checkpoint_path, state.to_dict())

    def load_checkpoint(self) -> SearchState | None:
        if not self.checkpoint_path.is_file():
            return None
        return SearchState.from_dict(read_json(self.checkpoint_path, "resuming a run"), str(self.checkpoint_path))

    def save_records(self, candidate_id: str, records: list[tuple[str, EvalRecord]]) -> None:
        """A candidate's records, each as (split, record)."""
        atomic_write_jsonl(self.records_path(candidate_id), ({"split": split, **asdict(r)} for split, r in records))

    def load_records(self, candidate_id: str) -> list[tuple[str, EvalRecord]]:
        path = self.records_path(candidate_id)
        if not path.is_file():
            return []
        rows = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                split = row.pop("split", "?")
                rows.append((split, typed(EvalRecord, row, str(path))))
        return rows

    def save_result(self, result: OptimizationResult, best_prompt: str) -> None:
        atomic_write_text(self.best_prompt_path, best_prompt)
        result.best_prompt.save(self.best_prompt_json_path)
        atomic_write_json(self.result_path, result.to_dict())

    def load_result(self) -> OptimizationResult | None:
        return OptimizationResult.load(self.result_path) if self.result_path.is_file() else None

    def stop_requested(self) -> bool:
        return self.stop_path.exists()
