"""The engine's errors. Each carries a one-line message meant for a person: it names
the file, line or field at fault, so the CLI prints it and the studio shows it as is."""

from __future__ import annotations


class SimCSEError(Exception):
    """Base class: anything the user can fix by changing an input."""


class DataError(SimCSEError):
    """A corpus, triplet or STS file cannot be read. The message names file and line."""


class ModelError(SimCSEError):
    """A model folder cannot be loaded (missing, unsafe weights, unknown architecture)."""


class ConfigError(SimCSEError):
    """A configuration field is out of range; the message names the field."""


class TrainingError(SimCSEError):
    """Training stopped (NaN/inf loss, out of memory). The last good checkpoint is kept."""


class StorageError(SimCSEError):
    """A run folder could not be written (disk full, read-only, quota). The message
    names what and where, and what is intact; the temporary files are removed."""


class RunLockedError(StorageError):
    """Another run is writing this run folder; the message names it (pid, host, start)."""
