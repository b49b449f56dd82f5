"""The explore map's UMAP in a child process, so it can be stopped at once and never holds
the studio's threads back (no Qt).

:func:`simcse_core.explore.iter_layout_2d` run in the studio's worker thread has two costs
on a large corpus: the fit (about a minute for 20,000 rows on 2 cores) cannot be stopped
part way, so closing the explore window waited for it; and numba's compiled loops and
pynndescent hold the interpreter lock in stretches, which the GUI thread feels as stalls
(``bench/explore_umap.py``: a worst single delay of 1.2 s at 100,000 rows).
:func:`iter_layout_2d_process` runs the same generator in a fresh process (``spawn``: no
threads or locks copied from the parent) that reads the rows from a ``.npy`` file by
memory map (the embedding cache's own file, so nothing is copied), reports progress as
small JSON messages over a pipe and writes the map to a ``.npy`` the parent loads with
``allow_pickle=False``. Between messages the parent yields a heartbeat every
``poll_s`` seconds, so a caller that stops between yields ends the child at once
(terminate). The same seed gives the same map as in process.
"""

from __future__ import annotations

import json
import multiprocessing
import tempfile
from collections.abc import Generator
from pathlib import Path

import numpy as np

from .errors import SimCSEError

PROCESS_ABOVE = 10_000  # rows from which the explore window lays its map out in a child process


def _child(conn, source: str, rows: int, out: str, sample: int, chunk: int, seed: int) -> None:
    """In the child: the map of the first ``rows`` rows of ``source``, progress on ``conn``."""
    from .explore import iter_layout_2d

    try:
        X = np.load(source, mmap_mode="r", allow_pickle=False)[:rows]
        gen = iter_layout_2d(X, sample=sample, chunk=chunk, seed=seed)
        while True:
            try:
                done, total = next(gen)
            except StopIteration as e:
                np.save(out, np.asarray(e.value, dtype=np.float32), allow_pickle=False)
                conn.send_bytes(json.dumps(["done"]).encode())
                return
            conn.send_bytes(json.dumps(["progress", int(done), int(total)]).encode())
    except Exception as e:  # noqa: BLE001 - reported to the parent, which raises it as a SimCSEError
        conn.send_bytes(json.dumps(["error", f"{type(e).__name__}: {e}"]).encode())
    finally:
        conn.close()


def iter_layout_2d_process(source: str | Path | np.ndarray, rows: int | None = None, *, sample: int, chunk: int,
                           seed: int = 0, poll_s: float = 0.25) -> Generator[tuple[int, int], None, np.ndarray]:
    """:func:`~simcse_core.explore.iter_layout_2d` in a child process (see the module note).
    ``source``: a ``.npy`` file of the rows (its first ``rows`` rows), or an array (written
    to a temporary file first). Yields (rows placed, N) as the child reports them and the
    last figures again every ``poll_s`` seconds while it works; returns the (N, 2) map.
    Closing the generator early ends the child. A failure in the child raises
    :class:`~simcse_core.errors.SimCSEError` with its message."""
    with tempfile.TemporaryDirectory(prefix="simcse-layout-") as tmp:
        if isinstance(source, np.ndarray):
            path = Path(tmp) / "rows.npy"
            np.save(path, source, allow_pickle=False)
            source, rows = path, len(source) if rows is None else rows
        total = int(rows) if rows is not None else len(np.load(source, mmap_mode="r", allow_pickle=False))
        out = Path(tmp) / "layout.npy"
        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, name="simcse-umap", daemon=True,
                           args=(sender, str(source), total, str(out), int(sample), int(chunk), int(seed)))
        proc.start()
        sender.close()  # the child holds its end; EOF here once it exits
        done = 0
        try:
            while True:
                if not receiver.poll(poll_s):
                    yield done, total  # a heartbeat: the caller may stop here
                    continue
                try:
                    msg = json.loads(receiver.recv_bytes())
                except EOFError:
                    proc.join(5)
                    raise SimCSEError("the map's UMAP process ended without a result (exit code {code})",
                                      code=proc.exitcode) from None
                if msg[0] == "progress":
                    done = msg[1]
                    yield done, total
                elif msg[0] == "done":
                    return np.load(out, allow_pickle=False)
                else:
                    raise SimCSEError("the map could not be made: {error}", error=msg[1])
        finally:
            receiver.close()
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
                    proc.join(5)


__all__ = ["PROCESS_ABOVE", "iter_layout_2d_process"]
