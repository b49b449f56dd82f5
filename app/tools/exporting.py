"""Exports from the studio: figures, timeline animations and data.

- **Figures** (:func:`export_image`): any plot or view to PNG (pyqtgraph
  ``ImageExporter``) or SVG (``SVGExporter``) at a chosen width x height. The picture is
  scaled to fit and centred on a background of exactly that size (a figure is never
  stretched). A widget that is not a pyqtgraph scene (the 3D sphere, a whole tab) is
  grabbed (PNG) or rendered through ``QSvgGenerator`` (SVG).
- **Animations** (:class:`TimelineExport`): the timeline as an animated GIF or an MP4.
  Frames are rendered off screen by stepping a :class:`FrameSource` (the embedding
  views, or the comparison window) and grabbing its widget, one frame per timer tick on
  the GUI thread (each tick well under 100 ms); the frames go through a queue to an
  encoder thread where imageio writes the file (GIF through Pillow, MP4 through
  imageio-ffmpeg's bundled ffmpeg, H.264 yuv420p). A ``QProgressDialog`` shows the
  progress and cancels (the partial file is deleted).
- **Data** (:class:`DataExports`): metrics CSV, the TensorBoard projector files, .npy +
  metadata and the model as a sentence-transformers folder, all written by
  :mod:`simcse_core.export` in superqt workers.
"""

from __future__ import annotations

import importlib
import logging
import queue
import threading
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QProgressDialog, QWidget
from superqt.utils import create_worker

from app.i18n import tr
from app.runs.workers import error_text

log = logging.getLogger(__name__)

BACKGROUND = QColor("#ffffff")
FRAME_TIMEOUT_S = 20.0  # a frame whose projection never arrives is grabbed as it is


# ====================================================================== figures
def scene_item(target: Any) -> Any:
    """The pyqtgraph item or scene to export for ``target`` (a PlotItem, a GraphicsView /
    PlotWidget / GraphicsLayoutWidget, or an object with a ``plot`` PlotItem), or None."""
    if isinstance(target, pg.GraphicsItem):
        return target
    plot = getattr(target, "plot", None)
    if isinstance(plot, pg.PlotItem):
        return plot
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    return None


def _fit(src_w: float, src_h: float, w: int, h: int) -> QRect:
    """The rectangle of size ``src`` scaled to fit ``w`` x ``h``, centred."""
    s = min(w / max(src_w, 1e-9), h / max(src_h, 1e-9))
    tw, th = max(1, int(round(src_w * s))), max(1, int(round(src_h * s)))
    return QRect((w - tw) // 2, (h - th) // 2, min(tw, w), min(th, h))


def render_image(target: Any, width: int, height: int, background: QColor = BACKGROUND) -> QImage:
    """``target`` drawn into a ``width`` x ``height`` image (scaled to fit, centred)."""
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width} x {height}")
    canvas = QImage(width, height, QImage.Format.Format_ARGB32)
    canvas.fill(background)
    item = scene_item(target)
    if item is not None:
        from pyqtgraph.exporters import ImageExporter

        ex = ImageExporter(item)
        tr = ex.getTargetRect()
        rect = _fit(tr.width(), tr.height(), width, height)
        ex.parameters()["background"] = background
        ex.parameters()["width"] = rect.width()  # the height follows the aspect ratio
        img = ex.export(toBytes=True)
        p = QPainter(canvas)
        p.drawImage(QRect(rect.topLeft(), QSize(rect.width(), rect.height())), img)
        p.end()
        return canvas
    if not isinstance(target, QWidget):
        raise TypeError(f"cannot export {type(target).__name__}: not a plot or a widget")
    pm = target.grab()
    img = pm.toImage()
    rect = _fit(img.width(), img.height(), width, height)
    p = QPainter(canvas)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    p.drawImage(rect, img)
    p.end()
    return canvas


def export_png(target: Any, path: str | Path, width: int, height: int) -> Path:
    """Write ``target`` as a ``width`` x ``height`` PNG."""
    img = render_image(target, width, height)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not img.save(str(path), "PNG"):
        raise OSError(tr("{path}: the PNG could not be written").format(path=path))
    return path


def export_svg(target: Any, path: str | Path, width: int, height: int) -> Path:
    """Write ``target`` as an SVG whose canvas is ``width`` x ``height`` (the drawing is
    scaled to fit, aspect kept: ``viewBox`` with ``preserveAspectRatio``)."""
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width} x {height}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    item = scene_item(target)
    if item is not None:
        from pyqtgraph.exporters import SVGExporter

        ex = SVGExporter(item)
        box = ex.getTargetRect()
        src_w, src_h = float(box.width()), float(box.height())
        with _closed_path_fix():
            xml = ex.export(toBytes=True).decode("utf-8")
        ElementTree.register_namespace("", "http://www.w3.org/2000/svg")
        ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
        root = ElementTree.fromstring(xml)
        root.set("width", f"{width}px")
        root.set("height", f"{height}px")
        root.set("viewBox", f"0 0 {src_w:g} {src_h:g}")
        root.set("preserveAspectRatio", "xMidYMid meet")
        out = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + ElementTree.tostring(root, encoding="unicode")
        path.write_text(out, encoding="utf-8")
        return path
    if not isinstance(target, QWidget):
        raise TypeError(f"cannot export {type(target).__name__}: not a plot or a widget")
    from PySide6.QtSvg import QSvgGenerator

    gen = QSvgGenerator()
    gen.setFileName(str(path))
    gen.setSize(QSize(width, height))
    gen.setViewBox(QRect(0, 0, width, height))
    gen.setTitle(target.windowTitle() or tr("SimCSE Studio"))
    p = QPainter(gen)
    rect = _fit(target.width(), target.height(), width, height)
    p.translate(rect.topLeft())
    s = rect.width() / max(target.width(), 1)
    p.scale(s, s)
    target.render(p, QPoint(0, 0))
    p.end()
    return path


@contextmanager
def _closed_path_fix():
    """pyqtgraph 0.14's SVG exporter splits path data on spaces into "x,y" pairs, but
    Qt 6.11's SVG generator ends closed paths with a separate "Z" token (a ViewBox's
    background rectangle): drop those tokens before pyqtgraph reads the path (the
    rectangles end where they start, so nothing visible changes). Scoped to one export."""
    mod = importlib.import_module("pyqtgraph.exporters.SVGExporter")
    orig = mod.correctCoordinates

    def patched(node, defs, item, options):  # noqa: ANN001 - pyqtgraph's signature
        for p in node.getElementsByTagName("path"):
            d = p.getAttribute("d")
            if "Z" in d or "z" in d:
                p.setAttribute("d", " ".join(t for t in d.split() if t not in ("Z", "z")))
        return orig(node, defs, item, options)

    mod.correctCoordinates = patched
    try:
        yield
    finally:
        mod.correctCoordinates = orig


def export_image(target: Any, path: str | Path, width: int, height: int) -> Path:
    """PNG or SVG by the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".svg":
        return export_svg(target, path, width, height)
    if suffix in (".png", ""):
        return export_png(target, Path(path).with_suffix(".png"), width, height)
    raise ValueError(f"{path}: choose a .png or .svg file")


def image_targets(parts: Any, compare_window: Any = None) -> list[tuple[str, Any]]:
    """(name, target) of everything in the studio that can be exported as a figure
    (``parts``: the context's :class:`~app.shell.context.StudioParts`)."""
    out: list[tuple[str, Any]] = []
    plots = parts.training
    if plots is not None:
        out.append((tr("Training plots (all)"), plots))
        for v in plots.views:
            item = v.plot
            title = item.titleLabel.text if hasattr(item, "titleLabel") else "plot"
            out.append((tr("Training: {title}").format(title=_plain(title)), item))
    emb = parts.embedding
    if emb is not None:
        out.append((tr("Embedding space (the four views)"), emb.grid))  # without the timeline and controls
        for v in emb.grid.views_by_role().values():
            if v is not None:
                title = v.getPlotItem().titleLabel.text if isinstance(v, pg.PlotWidget) else tr("Sphere (3D)")
                out.append((tr("Embedding: {title}").format(title=_plain(title)), v))
    out.extend(panel_targets(parts))
    cw = compare_window
    if cw is not None and cw.runs:
        out.append((tr("Comparison: curves"), cw.curves))
        out.append((tr("Comparison: side-by-side views"), cw.views_box))
        out.append((tr("Comparison: whole window"), cw.centralWidget()))
    return out


def panel_targets(parts: Any) -> list[tuple[str, Any]]:
    """The dock panels' figures: the temperature lens (its plots together and each one)
    and the false-negative panel (its masked-per-step plot and its candidate table)."""
    out: list[tuple[str, Any]] = []
    lens = parts.lens
    if lens is not None:
        plots = lens.plots
        out.append((tr("Temperature lens (its plots)"), plots))
        for w in (plots.bar_plot, plots.hist_top1, plots.hist_eff):
            out.append((tr("Lens: {title}").format(title=_plain(w.getPlotItem().titleLabel.text)), w))
    fn = parts.false_negatives
    if fn is not None:
        out.append((tr("False negatives: masked per step"), fn.mask_plot))
        out.append((tr("False negatives: candidate table"), fn.table))
    return out


def _plain(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", str(html)).strip() or "plot"


# ====================================================================== animations
class FrameSource:
    """What a timeline animation steps through. Subclasses set ``widget`` (grabbed for
    each frame) and implement :meth:`count`, :meth:`request`, :meth:`ready` and
    :meth:`caption`."""

    widget: QWidget

    def count(self) -> int:
        raise NotImplementedError

    def begin(self) -> None:
        """Called once before the first frame (remember what to restore)."""

    def end(self) -> None:
        """Called once after the last frame (or a cancel)."""

    def request(self, i: int) -> None:
        """Start showing frame ``i``."""
        raise NotImplementedError

    def ready(self, i: int) -> bool:
        """Whether frame ``i`` is drawn (projections arrive from worker threads)."""
        raise NotImplementedError

    def caption(self, i: int) -> str:
        return ""

    def grab(self, i: int) -> QImage:
        return self.widget.grab().toImage()


class EmbeddingFrames(FrameSource):
    """The "Embedding space" tab, one frame per snapshot with probe embeddings; the
    shown snapshot is set through the view state and put back at the end."""

    def __init__(self, tab: Any, view_state: Any, model: Any, widget: QWidget | None = None, label: str = "") -> None:
        self.tab = tab
        self.view_state = view_state
        self.model = model
        self.widget = widget or tab
        self.label = label
        self.indices = model.probe_indices()
        self._saved = -1

    def count(self) -> int:
        return len(self.indices)

    def begin(self) -> None:
        self._saved = self.view_state.snapshot_index

    def end(self) -> None:
        self.view_state.snapshot_index = self._saved

    def request(self, i: int) -> None:
        self.view_state.snapshot_index = self.indices[i]

    def ready(self, i: int) -> bool:
        idx = self.indices[i]
        if idx not in self.tab.frames:
            return False
        self.tab.redraw_now()
        return self.tab.drawn_index == idx

    def caption(self, i: int) -> str:
        m = self.model
        snap = m.snapshots[self.indices[i]]
        who = self.label or (Path(m.run_dir).name if m.run_dir else "")
        return tr("step {step} / {total}").format(step=f"{snap.step:,}", total=f"{snap.total_steps:,}") + (
            f"  ·  {who}" if who else "")


class CompareFrames(FrameSource):
    """The comparison window's side-by-side views (or its whole centre), one frame per
    step of the shared slider."""

    def __init__(self, compare: Any, widget: QWidget | None = None) -> None:
        self.compare = compare
        self.widget = widget or compare.views_box
        self._saved = 0

    def count(self) -> int:
        return len(self.compare.union_steps)

    def begin(self) -> None:
        self._saved = self.compare.position

    def end(self) -> None:
        self.compare.set_position(self._saved)

    def request(self, i: int) -> None:
        self.compare.set_position(i)

    def ready(self, i: int) -> bool:
        return self.compare.drawn_position == i

    def caption(self, i: int) -> str:
        return (tr("step {step}").format(step=f"{int(self.compare.union_steps[i]):,}") + "  ·  "
                + tr(" vs ").join(r.label for r in self.compare.runs))


def qimage_to_rgb(img: QImage) -> np.ndarray:
    """(H, W, 3) uint8 copy of a QImage."""
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def compose_frame(img: QImage, caption: str, size: tuple[int, int] | None) -> QImage:
    """The grabbed picture scaled to ``size`` (even dimensions, letterboxed) with a
    caption strip at the bottom."""
    if size is None:
        w, h = img.width(), img.height()
    else:
        w, h = size
    w, h = max(2, w - w % 2), max(2, h - h % 2)
    strip = max(18, h // 22) if caption else 0
    out = QImage(w, h, QImage.Format.Format_RGB888)
    out.fill(BACKGROUND)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    rect = _fit(img.width(), img.height(), w, h - strip)
    p.drawImage(rect, img)
    if caption:
        f = QFont()
        f.setPixelSize(int(strip * 0.7))
        p.setFont(f)
        p.setPen(QColor("#222222"))
        p.drawText(QRectF(8, h - strip, w - 16, strip), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                   caption)
    p.end()
    return out


class _Encoder(threading.Thread):
    """Takes (H, W, 3) frames from a queue and writes them with imageio. GIF frames are
    collected and written at the end (Pillow needs them all); MP4 frames stream to
    ffmpeg as they come."""

    def __init__(self, path: Path, fmt: str, fps: float) -> None:
        super().__init__(name="timeline-encoder", daemon=True)
        self.path, self.fmt, self.fps = path, fmt, fps
        self.frames: queue.Queue = queue.Queue(maxsize=16)
        self.abort = threading.Event()
        self.error: str | None = None
        self.written = 0

    def run(self) -> None:
        try:
            if self.fmt == "mp4":
                self._mp4()
            else:
                self._gif()
        except Exception as e:  # reported on the GUI thread
            log.exception("timeline export failed")
            self.error = error_text(e)
        if (self.error or self.abort.is_set()) and self.path.exists():
            try:
                self.path.unlink()
            except OSError:
                pass

    def _take(self):
        while True:
            item = self.frames.get()
            if item is None or self.abort.is_set():
                return
            yield item

    def _gif(self) -> None:
        import imageio.v3 as iio

        frames = list(self._take())
        if self.abort.is_set() or not frames:
            return
        iio.imwrite(self.path, np.stack(frames), extension=".gif", plugin="pillow",
                    duration=int(round(1000 / self.fps)), loop=0)
        self.written = len(frames)

    def _mp4(self) -> None:
        import imageio.v2 as iio2

        writer = None
        try:
            for frame in self._take():
                if writer is None:
                    writer = iio2.get_writer(str(self.path), format="FFMPEG", mode="I", fps=self.fps, codec="libx264",
                                             pixelformat="yuv420p", macro_block_size=2, quality=8,
                                             ffmpeg_log_level="error")
                writer.append_data(frame)
                self.written += 1
        finally:
            if writer is not None:
                writer.close()


class TimelineExport(QObject):
    """Render a :class:`FrameSource` frame by frame into a GIF or MP4 file.

    On the GUI thread a timer asks for one frame at a time and grabs it once drawn
    (a tick does one request, one readiness check or one grab: never a long freeze);
    the frames go to an encoder thread. Signals: ``progress(done, total)``,
    ``finished(path)``, ``failed(message)``, ``cancelled()``.
    """

    progress = Signal(int, int)
    finished = Signal(str)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, source: FrameSource, path: str | Path, fps: float = 4.0, size: tuple[int, int] | None = None,
                 caption: bool = True, parent: QWidget | None = None, dialog: bool = True) -> None:
        super().__init__(parent)
        self.source = source
        self.path = Path(path)
        fmt = self.path.suffix.lower().lstrip(".")
        if fmt not in ("gif", "mp4"):
            raise ValueError(f"{path}: choose a .gif or .mp4 file")
        self.fmt = fmt
        self.fps = float(fps)
        self.size = size
        self.caption = caption
        self.total = source.count()
        self.done = 0
        self.state = "idle"  # rendering, encoding, finished, failed, cancelled
        self._i = 0
        self._requested = -1
        self._waited = 0.0
        self._frame_size: tuple[int, int] | None = size
        self._encoder = _Encoder(self.path, fmt, self.fps)
        self._timer = QTimer(self)
        self._timer.setInterval(15)
        self._timer.timeout.connect(self._tick)
        self._poll = QTimer(self)
        self._poll.setInterval(50)
        self._poll.timeout.connect(self._check_encoder)
        self.dialog: QProgressDialog | None = None
        if dialog:
            d = QProgressDialog(tr("Rendering {n} frames…").format(n=self.total), tr("Cancel"), 0, max(1, self.total),
                                parent)
            d.setWindowTitle(tr("Export {format}").format(format=fmt.upper()))
            d.setWindowModality(Qt.WindowModality.WindowModal)
            d.setMinimumDuration(0)
            d.setAutoClose(False)
            d.setAutoReset(False)
            d.canceled.connect(self.cancel)
            self.dialog = d

    def start(self) -> bool:
        if self.total == 0:
            self._fail(tr("nothing to export: the timeline has no snapshot with embeddings"))
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.state = "rendering"
        self.source.begin()
        self._encoder.start()
        if self.dialog is not None:
            self.dialog.show()
        self._timer.start()
        return True

    def _tick(self) -> None:
        if self.state != "rendering":
            return
        i = self._i
        if self._requested != i:
            self._requested = i
            self._waited = 0.0
            self.source.request(i)
            return
        if not self.source.ready(i):
            self._waited += self._timer.interval() / 1000
            if self._waited < FRAME_TIMEOUT_S:
                return
            log.warning("frame %d was not drawn within %.0f s: grabbed as it is", i, FRAME_TIMEOUT_S)
        img = self.source.grab(i)
        if self._frame_size is None:
            self._frame_size = (img.width(), img.height())  # every frame the size of the first
        frame = qimage_to_rgb(compose_frame(img, self.source.caption(i) if self.caption else "", self._frame_size))
        try:
            self._encoder.frames.put(frame, timeout=5.0)
        except queue.Full:
            self._fail(tr("the encoder stopped taking frames"))
            return
        self._i += 1
        self.done = self._i
        self.progress.emit(self.done, self.total)
        if self.dialog is not None:
            self.dialog.setValue(self.done)
        if self._i >= self.total:
            self._timer.stop()
            self.source.end()
            self.state = "encoding"
            self._encoder.frames.put(None)
            if self.dialog is not None:
                self.dialog.setLabelText(tr("Encoding {format}…").format(format=self.fmt.upper()))
                self.dialog.setRange(0, 0)
            self._poll.start()

    def _check_encoder(self) -> None:
        if self._encoder.is_alive():
            return
        self._poll.stop()
        if self.state == "cancelled":
            return
        if self._encoder.error:
            self._fail(self._encoder.error)
            return
        self.state = "finished"
        self._close_dialog()
        self.finished.emit(str(self.path))

    def cancel(self) -> None:
        """Stop rendering; the encoder drops what it has and deletes the partial file."""
        if self.state not in ("rendering", "encoding"):
            return
        was_rendering = self.state == "rendering"
        self.state = "cancelled"
        self._timer.stop()
        self._encoder.abort.set()
        try:
            self._encoder.frames.put_nowait(None)
        except queue.Full:
            pass
        if was_rendering:
            self.source.end()
        self._poll.start()
        self._close_dialog()
        self.cancelled.emit()

    def _fail(self, message: str) -> None:
        self.state = "failed"
        self._timer.stop()
        self._encoder.abort.set()
        self._close_dialog()
        self.failed.emit(message)

    def _close_dialog(self) -> None:
        d, self.dialog = self.dialog, None
        if d is not None:
            d.canceled.disconnect(self.cancel)
            d.close()
            d.deleteLater()

    def wait_encoder(self, timeout: float = 60.0) -> bool:
        self._encoder.join(timeout)
        return not self._encoder.is_alive()


# ====================================================================== data
class DataExports(QObject):
    """The data exports of :mod:`simcse_core.export`, each run in a superqt worker.

    Signals: ``done(kind, result)`` (the path, or the dict of paths) and
    ``failed(kind, message)``; ``kind`` is "metrics", "projector", "npy" or "model".
    """

    done = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workers: dict[str, Any] = {}

    def _run(self, kind: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> None:
        def finished() -> None:
            self._workers.pop(kind, None)

        self._workers[kind] = create_worker(fn, *args, **kw, _connect={
            "returned": lambda r: self.done.emit(kind, r),
            "errored": lambda e: self.failed.emit(kind, error_text(e)),
            "finished": finished})

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    def metrics_csv(self, run_dir: str | Path, path: str | Path) -> None:
        from simcse_core.export import export_metrics_csv

        self._run("metrics", export_metrics_csv, str(run_dir), str(path))

    def projector(self, run_dir: str | Path, step: int | None, out_dir: str | Path) -> None:
        from simcse_core.export import export_projector

        self._run("projector", export_projector, str(run_dir), step, str(out_dir))

    def npy(self, run_dir: str | Path, step: int | None, out_dir: str | Path) -> None:
        from simcse_core.export import export_npy

        self._run("npy", export_npy, str(run_dir), step, str(out_dir))

    def model(self, run_dir: str | Path, dest: str | Path, overwrite: bool = False) -> None:
        from simcse_core.export import export_model

        self._run("model", export_model, str(run_dir), str(dest), overwrite)
