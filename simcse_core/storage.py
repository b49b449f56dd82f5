"""Writing a run folder safely: the folder's lock, and writes that fail with one line.

- :class:`RunLock`: one writer per run folder. An OS lock (``flock`` on
  ``<run>/.lock``; ``msvcrt.locking`` on Windows) held while a run writes the folder;
  the kernel drops it when the process dies, so a killed run never blocks the next one.
  A second writer is refused with :class:`~simcse_core.errors.RunLockedError` naming the
  holder (pid, host, start time). Readers never lock: following a locked folder works.
- :func:`guarded_write`: a write (checkpoint, snapshot, metrics line, model) that fails
  (disk full, read-only, quota) removes its temporary file or folder and raises
  :class:`~simcse_core.errors.StorageError`: "disk full while writing checkpoint step 40
  in runs/x/checkpoints; the checkpoint of step 20 is intact".
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import RunLockedError, StorageError
from .messages import Msg

LOCK_NAME = ".lock"
LOW_SPACE = 1 << 20  # bytes: a failed write with less free than this is "disk full"
NOTHING_CHANGED = Msg("nothing else was changed")  # what a failed write of one file leaves intact

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _try_lock(fd: int) -> bool:
    """An exclusive, non-blocking lock on ``fd``; False when another holds it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # per open file: two writers in one process conflict too
        else:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
            return False
        raise
    return True


def lock_holder(root: str | Path) -> dict[str, Any] | None:
    """What the lock file of a run folder says about its writer (pid, host, started),
    or None. Only informative: whether the folder is locked is the OS lock's to say."""
    try:
        text = (Path(root) / LOCK_NAME).read_text(encoding="utf-8")
        info = json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def describe_holder(info: dict[str, Any] | None) -> Msg:
    if not info:
        return Msg("another process (it has not said which yet)")
    return Msg("pid {pid} on {host}, started {started}", pid=info.get("pid", "?"), host=info.get("host", "?"),
               started=info.get("started", "?"))


class RunLock:
    """Hold the lock of run folder ``root`` (created if missing) until :meth:`release`."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._fd: int | None = os.open(self.root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise StorageError("output_dir {folder}: cannot be created ({error})", folder=str(self.root),
                               error=str(e.strerror or e)) from None
        if not _try_lock(self._fd):
            os.close(self._fd)
            self._fd = None
            raise RunLockedError("run folder {folder} is being written by another run ({holder}); wait for it to end, "
                                 "stop it, or choose another output_dir", folder=str(self.root),
                                 holder=describe_holder(lock_holder(self.root)))
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        try:
            os.ftruncate(self._fd, 0)
            os.write(self._fd, (json.dumps(info) + "\n").encode())
        except OSError:
            pass  # a full disk: the lock holds all the same, the message says less

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)  # the holder's details go with the lock
        except OSError:
            pass
        os.close(fd)  # closing the file drops the lock

    def __del__(self) -> None:  # a dropped lock object never keeps a folder locked
        try:
            self.release()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# ------------------------------------------------------------------ failing writes
def is_disk_full(exc: BaseException, folder: Path) -> bool:
    """ENOSPC / EDQUOT, or a writer that hides the errno (safetensors, torch.save's
    "unexpected pos") failing on a disk with (almost) no room left."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return True
    if "no space left" in str(exc).lower():
        return True
    try:
        return shutil.disk_usage(folder).free < LOW_SPACE
    except OSError:
        return False


def _remove(path: Path | None) -> None:
    if path is None:
        return
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    except OSError:
        pass


def _write_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [OSError, RuntimeError]  # RuntimeError: torch.save's stream writer
    try:
        from safetensors import SafetensorError

        errors.append(SafetensorError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


@contextmanager
def guarded_write(what: str | Msg, folder: str | Path, intact: Msg, cleanup: Path | None = None) -> Iterator[None]:
    """Run a write; on failure remove ``cleanup`` (the temporary file or folder) and
    raise :class:`StorageError` naming ``what`` (a file name, or a phrase as a
    :class:`~simcse_core.messages.Msg`), ``folder`` and what is ``intact`` (a phrase).
    An interrupt (Ctrl-C) also removes ``cleanup`` and goes on as it was."""
    folder = Path(folder)
    try:
        yield
    except _write_errors() as e:
        full = is_disk_full(e, folder)
        _remove(cleanup)
        if full:
            raise StorageError("disk full while writing {what} in {folder}; {intact}", what=what, folder=str(folder),
                               intact=intact) from None
        lines = str(e).strip().splitlines()
        reason = e.strerror if isinstance(e, OSError) and e.strerror else (lines[0] if lines else type(e).__name__)
        raise StorageError("could not write {what} in {folder} ({reason}); {intact}", what=what, folder=str(folder),
                           reason=reason, intact=intact) from None
    except BaseException:
        _remove(cleanup)
        raise


def atomic_write_text(path: Path, text: str, intact: Msg = NOTHING_CHANGED) -> None:
    """Write ``path`` through a temporary file in its folder, renamed when complete."""
    tmp = path.parent / f".{path.name}.tmp"
    with guarded_write(path.name, path.parent, intact, cleanup=tmp):
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


__all__ = ["RunLock", "guarded_write", "atomic_write_text", "is_disk_full", "lock_holder", "LOCK_NAME"]
