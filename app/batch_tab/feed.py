"""Keeps the batch view in step with the run model and the timeline.

Every snapshot added while the view follows the newest, and every move of the view
state's ``snapshot_index``, asks for a drawing. The job is captured on the GUI thread
(:func:`~app.batch_tab.data.capture`: arrays in memory, or the run folder's files to
read), computed in a worker (:func:`~app.batch_tab.data.compute`), and handed back as
plain data. One job runs at a time; requests meanwhile fold into one that runs after
it; a result that belongs to a cleared run is dropped. While the view is hidden nothing
is computed: it is marked stale and drawn when shown.

A live run with a snapshot every step would keep the worker busy back to back and the
image changing faster than anyone reads it, so new snapshots are taken at most once
every :data:`LIVE_MS` (the first at once, the newest at the end of each interval); the
last snapshot of a run and any move of the timeline are drawn at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from superqt.utils import create_worker, qthrottled

from simcse_core.snapshot import Snapshot

from app.batch_tab.data import BatchShown, capture, compute
from app.i18n import tr

if TYPE_CHECKING:
    from app.shell.context import StudioContext

LIVE_MS = 500  # a live run's snapshots reach the batch view at most this often


class BatchFeed(QObject):
    """Feeds ``deliver(BatchShown | None)`` from the context's run model; ``visible()``
    says whether drawing now is worth it. ``jobs`` counts the jobs started (tests)."""

    def __init__(self, ctx: StudioContext, deliver: Callable[[BatchShown | None], None],
                 visible: Callable[[], bool], failed: Callable[[str], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.deliver = deliver
        self.visible = visible
        self.failed = failed
        self.request = 0
        self.busy = False
        self.pending = False
        self.stale = True
        self.jobs = 0
        self._worker: Any = None
        self._live = qthrottled(self.ask, timeout=LIVE_MS, leading=True, parent=self)
        ctx.run_model.subscribe(self._on_model)
        ctx.view_state.connect("snapshot_index", lambda _i: self.ask())

    def _on_model(self, snap: Snapshot | None) -> None:
        if snap is None:  # a new run: what is drawn or under way belongs to the old one
            self._live.cancel()
            self.request += 1
            self.pending = False
            self.deliver(None)
            return
        if not self.ctx.view_state.follow_newest:
            return
        if snap.done or snap.stopped:  # the run's last snapshot: at once
            self._live.cancel()
            self.ask()
        else:
            self._live()

    def ask(self) -> None:
        """Draw the shown snapshot's batch (now, after the running job, or when shown)."""
        if not self.visible():
            self.stale = True
            return
        if self.busy:
            self.pending = True
            return
        self.stale = False
        self.request += 1
        job = capture(self.ctx.run_model, self.ctx.view_state.snapshot_index, self.request)
        if job is None or not job.candidates:
            self.deliver(None)
            return
        self.busy = True
        self.jobs += 1
        self._worker = create_worker(compute, job, _connect={"returned": self._done, "errored": self._errored})

    def shown(self) -> None:
        """The view became visible: draw if something arrived while it was hidden."""
        if self.stale:
            self.ask()

    def _done(self, shown: BatchShown | None) -> None:
        self.busy = False
        if shown is not None and shown.request == self.request:
            self.deliver(shown)
        elif shown is None and not self.pending:
            self.deliver(None)
        self._next()

    def _errored(self, error: BaseException) -> None:
        self.busy = False
        self.failed(tr("the batch view could not read this batch: {error}").format(error=f"{type(error).__name__}: {error}"))
        self._next()

    def _next(self) -> None:
        if self.pending:
            self.pending = False
            self.ask()


__all__ = ["BatchFeed"]
