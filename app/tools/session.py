"""Session files: save the studio as it is, open it again later as it was.

A session is a small JSON file (``*.simcse-session.json``)::

    {
      "format": "simcse-studio-session", "version": 1,
      "run": "/path/to/run" | null,    "follow": false,
      "selected": 1234 | null,          # corpus id of the selected sentence
      "timeline": {"index": 7, "step": 140},      # index -1: follow the newest
      "view": {"tab": "Embedding space", "colour_by": "topic",
               "sphere_method": "pca", "umap_every": 5},
      "presentation": false,
      "triage": {"file": "/path/to/run/triage.json" | null, "decisions": [...]},
      "compare": {"runs": [{"path": ..., "label": ...}], "step": 140, "method": "hammer"} | null
    }

Paths are stored absolute. The triage decisions are embedded (the
:class:`~simcse_core.false_negatives.TriageBook` fields of each decision) and the run
folder's triage file is named too; on load the embedded decisions win.

:func:`capture` reads the studio context (no I/O), :func:`save_session` /
:func:`read_session` write and read the file, and :class:`SessionRestorer` applies a
session step by step: it opens the run (read in a worker by the run controller), waits for its
snapshots, then restores the view settings, the timeline, the selection, the triage,
the comparison and presentation mode, and emits ``restored``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from simcse_core.errors import DataError, SimCSEError
from simcse_core.false_negatives import Decision, TriageBook

from app.i18n import tr
from app.shell.context import StudioContext

FORMAT = "simcse-studio-session"
VERSION = 1
SUFFIX = ".simcse-session.json"


class SessionError(SimCSEError):
    """A session file that cannot be read or applied."""


# ---------------------------------------------------------------------- triage
def book_to_list(book: TriageBook) -> list[dict[str, Any]]:
    return [{k: v for k, v in dataclasses.asdict(d).items() if v is not None} for d in book.decisions()]


def tab_key(tabs: Any, i: int) -> str:
    """The key of tab ``i`` (its English name, kept as the tab bar's data; else its text)."""
    return str(tabs.tabBar().tabData(i) or tabs.tabText(i))


def book_from_list(items: list[dict[str, Any]], source: str = "session") -> TriageBook:
    fields = {f.name for f in dataclasses.fields(Decision)}
    try:
        return TriageBook(Decision(**{k: v for k, v in d.items() if k in fields}) for d in items)
    except (TypeError, ValueError) as e:
        raise SessionError(tr("{source}: bad triage decision ({error})").format(source=source, error=e)) from None


def _triage_of(ctx: StudioContext) -> TriageBook | None:
    fn = ctx.parts.false_negatives
    if fn is not None:
        return fn.book
    run = ctx.run_model.run_dir
    if run:
        try:
            return TriageBook.load_from_run(run)
        except SimCSEError:
            return None
    return None


# ---------------------------------------------------------------------- capture
def capture(ctx: StudioContext) -> dict[str, Any]:
    """The session of a studio, as a JSON-ready dict (its view state, run, triage...)."""
    model, vs = ctx.run_model, ctx.view_state
    run = model.run_dir
    idx = vs.snapshot_index
    timeline: dict[str, Any] = {"index": int(idx), "step": int(model.snapshots[idx].step)
                                if 0 <= idx < len(model.snapshots) else None}
    view: dict[str, Any] = {"colour_by": vs.colour_by or None, "sphere_method": vs.sphere_method,
                            "umap_every": int(vs.umap_every)}
    tabs = ctx.parts.tabs
    if tabs is not None:
        view["tab"] = tab_key(tabs, tabs.currentIndex())  # the English name, whatever the language
        view["tab_index"] = int(tabs.currentIndex())
    triage: dict[str, Any] = {"file": None, "decisions": []}
    if run:
        f = Path(run) / "triage.json"
        triage["file"] = str(f.resolve()) if f.exists() else None
    book = _triage_of(ctx)
    if book is not None:
        triage["decisions"] = book_to_list(book)
    tools = ctx.parts.tools
    cw = tools.compare_window if tools is not None else None
    compare = None
    if cw is not None and cw.runs:
        compare = {"runs": [{"path": str(Path(r.path).resolve()), "label": r.label} for r in cw.runs],
                   "step": cw.step, "method": cw.method, "visible": cw.isVisible()}
    return {
        "format": FORMAT,
        "version": VERSION,
        "run": str(Path(run).resolve()) if run else None,
        "follow": ctx.runs.following,
        "selected": ctx.selection.current,
        "timeline": timeline,
        "view": view,
        "presentation": bool(tools is not None and tools.presentation.active),
        "triage": triage,
        "compare": compare,
    }


def save_session(ctx: StudioContext, path: str | Path) -> Path:
    """Write the studio's session to ``path`` (atomically)."""
    path = Path(path)
    text = json.dumps(capture(ctx), indent=2, ensure_ascii=False) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise DataError(tr("{path}: cannot be written ({error})").format(path=path, error=e.strerror or e)) from None
    return path


def read_session(path: str | Path) -> dict[str, Any]:
    """Read and check a session file (:class:`SessionError` naming the file)."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionError(tr("{path}: no such session file").format(path=p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise SessionError(tr("{path}: cannot be read ({error})").format(path=p, error=e)) from None
    except json.JSONDecodeError as e:
        raise SessionError(tr("{path}: not valid JSON (line {line}: {error})").format(path=p, line=e.lineno, error=e.msg)) from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise SessionError(tr("{path}: not a SimCSE Studio session (no \"format\": \"{format}\")").format(path=p, format=FORMAT))
    if int(d.get("version", 0)) > VERSION:
        raise SessionError(tr("{path}: session version {version} is newer than this studio reads ({known})").format(
            path=p, version=d.get("version"), known=VERSION))
    run = d.get("run")
    if run is not None and not Path(run).is_dir():
        raise SessionError(tr("{path}: its run folder {run} no longer exists").format(path=p, run=run))
    d.setdefault("timeline", {"index": -1, "step": None})
    d.setdefault("view", {})
    d.setdefault("triage", {"file": None, "decisions": []})
    return d


# ---------------------------------------------------------------------- restore
class SessionRestorer(QObject):
    """Apply a session dict to a studio. Signals ``restored(dict)`` and ``failed(str)``."""

    restored = Signal(object)
    failed = Signal(str)

    def __init__(self, ctx: StudioContext, session: dict[str, Any], timeout_ms: int = 120_000) -> None:
        super().__init__(ctx.dialog_parent)
        self.ctx = ctx
        self.session = session
        self._timer = QTimer(self, singleShot=True, interval=timeout_ms)
        self._timer.timeout.connect(lambda: self._fail(tr("the run folder took too long to read")))
        self.done = False
        self._check = QTimer(self, interval=200)  # a poll that raced an earlier one never signals
        self._check.timeout.connect(self._check_loaded)

    def _presentation(self) -> Any:
        tools = self.ctx.parts.tools
        return None if tools is None else tools.presentation

    def start(self) -> None:
        s, runs = self.session, self.ctx.runs
        pres = self._presentation()
        if pres is not None and pres.active:
            pres.leave()
        run = s.get("run")
        if run:
            runs.run_updated.connect(self._run_loaded)
            if not runs.open_run(run, follow=bool(s.get("follow"))):
                runs.run_updated.disconnect(self._run_loaded)
                self._fail(tr("the run {run} could not be opened").format(run=run))
                return
            self._timer.start()
            self._check.start()
        else:
            QTimer.singleShot(0, self._apply)

    def _check_loaded(self) -> None:
        m, src = self.ctx.run_model, self.ctx.runs.source
        reading = src is not None and src.reading
        if m.snapshots and m.run_dir == self.session.get("run") and not reading:
            self._run_loaded()

    def _run_loaded(self) -> None:
        if not self._check.isActive() and self.done:
            return
        self._check.stop()
        try:
            self.ctx.runs.run_updated.disconnect(self._run_loaded)
        except (RuntimeError, TypeError):
            pass
        self._timer.stop()
        self._apply()

    def _fail(self, msg: str) -> None:
        self._check.stop()
        self.done = True
        self.failed.emit(msg)

    def _apply(self) -> None:
        ctx, s = self.ctx, self.session
        view = s.get("view") or {}
        tabs = ctx.parts.tabs
        if tabs is not None:
            names = [tab_key(tabs, i) for i in range(tabs.count())]
            if view.get("tab") in names:
                tabs.setCurrentIndex(names.index(view["tab"]))
            elif isinstance(view.get("tab_index"), int) and 0 <= view["tab_index"] < tabs.count():
                tabs.setCurrentIndex(view["tab_index"])
        ctx.view_state.restore({k: view[k] for k in ("sphere_method", "umap_every", "colour_by") if view.get(k)})
        self._restore_timeline(s.get("timeline") or {})
        sel = s.get("selected")
        ctx.selection.select(None if sel is None else int(sel))
        self._restore_triage(s.get("triage") or {})
        comp = s.get("compare")
        tools = ctx.parts.tools
        if comp and comp.get("runs") and tools is not None:
            cw = tools.open_compare([r["path"] for r in comp["runs"]], [r.get("label") for r in comp["runs"]],
                                    show=bool(comp.get("visible", True)))
            if comp.get("method") in ("hammer", "circle", "umap"):
                cw.set_method(comp["method"])
            step = comp.get("step")

            def loaded(_n: int, cw=cw, step=step) -> None:
                cw.runs_loaded.disconnect(loaded)
                if step is not None:
                    cw.set_step(int(step))
                self._finish()

            cw.runs_loaded.connect(loaded)
        else:
            self._finish()

    def _restore_timeline(self, tl: dict[str, Any]) -> None:
        snaps = self.ctx.run_model.snapshots
        index = int(tl.get("index", -1) if tl.get("index") is not None else -1)
        step = tl.get("step")
        if index >= 0 and step is not None:
            hit = [i for i, sn in enumerate(snaps) if sn.step == int(step)]
            index = hit[0] if hit else min(index, len(snaps) - 1)
        self.ctx.view_state.snapshot_index = index if index >= 0 and snaps else -1

    def _restore_triage(self, tri: dict[str, Any]) -> None:
        items = tri.get("decisions")
        book = None
        if items:
            book = book_from_list(items)
        elif tri.get("file") and Path(tri["file"]).is_file():
            try:
                book = TriageBook.from_json(tri["file"])
            except SimCSEError:
                book = None
        fn = self.ctx.parts.false_negatives
        if book is not None and fn is not None:
            fn.set_book(book)

    def _finish(self) -> None:
        if self.session.get("presentation"):
            pres = self._presentation()
            if pres is not None:
                pres.enter()
        self.done = True
        self.restored.emit(self.session)


def load_session(ctx: StudioContext, path: str | Path) -> SessionRestorer:
    """Read ``path`` and start restoring it into the studio; returns the restorer (its
    ``restored``/``failed`` signals say when it is done). Raises SessionError for an
    unreadable file."""
    r = SessionRestorer(ctx, read_session(path))
    r.start()
    return r
