"""Error types. Every error a user can cause carries one line that names the problem and the fix."""

from __future__ import annotations


class BehavoptError(Exception):
    """A problem the user can fix (bad input, missing file, wrong flag). The CLI prints it as one line."""


class ConfigError(BehavoptError):
    """A setting, flag or model spec is invalid."""


class TaskError(BehavoptError):
    """A task or dataset cannot be loaded or is malformed."""


class ModelError(BehavoptError):
    """A model cannot be found, downloaded or verified."""


class OutputError(BehavoptError):
    """A file or folder cannot be written (no permission, not a folder, no space left)."""

    @staticmethod
    def of(path: object, err: OSError) -> "OutputError":
        return OutputError(f"cannot write {path}: {err.strerror or err}: choose a folder you can write to, with "
                           "free space (nothing was half-written)")
