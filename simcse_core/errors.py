"""The engine's errors. Each carries a one-line message meant for a person: it names
the file, line or field at fault, so the CLI prints it and the studio shows it.

An error is raised with an English template and its values
(``DataError("{path}: no such file", path=p)``; see :mod:`simcse_core.messages`):
``str(e)`` is the English text, ``e.msg`` the :class:`~simcse_core.messages.Msg` the
studio translates. A single already-written string works too (braces untouched)."""

from __future__ import annotations

from typing import Any

from .messages import Msg


class SimCSEError(Exception):
    """Base class: anything the user can fix by changing an input."""

    def __init__(self, template: str | Msg = "", /, **values: Any) -> None:
        self.msg = template if isinstance(template, Msg) else Msg(template, **values)
        super().__init__(str(self.msg))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.msg, self.__dict__))


def _rebuild(cls: type[SimCSEError], msg: Msg, state: dict[str, Any]) -> SimCSEError:
    e = cls(msg)
    e.__dict__.update(state)
    return e


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
