"""``simcse-studio`` / ``python -m app``: start the studio.

    simcse-studio                 the default model and the demo corpus, ready to train
    simcse-studio --run DIR       open a run folder (replay its metrics and snapshots)
    simcse-studio --follow DIR    follow a run that ``simcse train`` is writing
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import sys
from collections.abc import Sequence

EXIT_WAIT_MS = 10_000  # at exit, how long the worker pool may take to finish


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="simcse-studio", description="A live SimCSE training dashboard.")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--run", metavar="DIR", help="open a run folder and replay its metrics and snapshots")
    g.add_argument("--follow", metavar="DIR", help="follow a run folder that `simcse train` is writing")
    p.add_argument("--runs-root", metavar="DIR", help="where new runs are written (default: the app data folder)")
    p.add_argument("--torch-threads", type=int, default=None, metavar="N",
                   help="intra-op threads for training (default: 1 on machines with 2 cores or fewer, where "
                        "the window and the trainer share the cores; torch's own elsewhere)")
    p.add_argument("--reset", action="store_true", help="ignore saved settings and window layout this time")
    p.add_argument("--model", metavar="SPEC", help='preselect a model: a folder, "default" or "random:default"')
    p.add_argument("--corpus", metavar="FILE", help="preselect a training corpus")
    p.add_argument("--explore", metavar="CORPUS",
                   help="open a corpus to explore (map, search, neighbours, clusters), embedded by --model "
                        "(default: the packaged model); the embeddings are cached beside the corpus")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="preset a setup field, e.g. --set max_steps=20 --set snapshot_every=2 (repeatable)")
    p.add_argument("--train", action="store_true", help="start training as soon as the window is up")
    p.add_argument("--screenshot", metavar="PREFIX",
                   help="after --screenshot-after seconds save PREFIX-<tab>.png for each main tab, then quit "
                        "(for docs and the Xvfb test)")
    p.add_argument("--screenshot-after", type=float, default=20.0, metavar="S")
    return p


def default_torch_threads(requested: int | None) -> int | None:
    """The trainer's intra-op threads: as asked, else 1 on a machine with <= 2 cores
    (bench/gui_latency.py measured fewer GUI stalls and no slower training there)."""
    if requested is not None and requested > 0:
        return requested
    cores = os.cpu_count() or 1
    return 1 if cores <= 2 else None


def create_window(args: argparse.Namespace, settings=None):  # -> MainWindow
    """Build (but do not run) the window for parsed ``args``; a QApplication must exist."""
    from app.shell.main_window import MainWindow

    win = MainWindow(settings=settings, runs_root=args.runs_root, torch_threads=default_torch_threads(args.torch_threads),
                     restore=not args.reset)
    if args.reset or not win.settings.has_saved():
        fit_to_screen(win)
    scripted = args.run or args.follow or args.train or args.model or args.corpus or args.set or args.explore
    if not scripted:
        win.start_welcome()  # first launch: the first-run recipe in Setup, and the welcome
    if (args.model and not args.explore) or args.corpus or args.set:
        preset = dict(_parse_sets(args.set))
        if args.model:
            kind = args.model if args.model in ("default", "random:default") else "folder"
            preset["model_kind"] = kind
            if kind == "folder":
                preset["model_folder"] = args.model
        if args.corpus:
            preset["train_file"] = args.corpus
        win.setup_panel.set_values({**win.setup_panel.values(), **preset})
    win.embedding.start_warmup()  # numba/UMAP compiles (or loads its disk cache) in the background
    if args.run:
        win.open_run(args.run, follow=False)
    elif args.follow:
        win.open_run(args.follow, follow=True)
    if args.explore:
        win.tools.explore(args.explore, args.model or "default")
    return win


def fit_to_screen(win) -> None:
    """The default window size (1400 x 900), within the screen's available area."""
    screen = win.screen()
    if screen is None:
        return
    area = screen.availableGeometry()
    w, h = min(win.width(), area.width()), min(win.height(), area.height())
    if (w, h) != (win.width(), win.height()):
        win.resize(w, h)
        win.move(area.topLeft())


def _parse_sets(items: list[str]):
    """FIELD=VALUE strings -> (field, value) with ints, floats and booleans parsed."""
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"simcse-studio: --set expects FIELD=VALUE, got {item!r}")
        value: object = raw
        for cast in (int, float):
            try:
                value = cast(raw)
                break
            except ValueError:
                pass
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        yield key.strip(), value


def _views_settled(win, tab) -> bool:
    """Whether a tab is ready for its screenshot: the embedding tab once a UMAP layout is
    drawn (UMAP off: at once); other tabs at once."""
    if tab is not win.embedding or not win.view_state.umap_enabled or not win.model.snapshots:
        return True
    return bool(tab.umap) and tab.umap_view.rows.size > 0


def save_screenshots(win, prefix: str, settle_s: float = 120.0) -> list[str]:
    """Grab the window once per main tab (when the centre is a tab widget) as PNGs.

    The embedding tab computes UMAP only while it is shown, so its screenshot waits (at
    most ``settle_s`` seconds) until a UMAP layout is drawn; the printed line says whether
    it was ("UMAP drawn" / "UMAP still computing")."""
    import time
    from pathlib import Path

    from PySide6.QtWidgets import QApplication, QTabWidget

    out = []
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    tabs = win.centralWidget().findChild(QTabWidget) if win.centralWidget() is not None else None
    # file names from the tabs' keys (English in any language: the Xvfb test looks for them)
    names = [str(tabs.tabBar().tabData(i) or tabs.tabText(i)) for i in range(tabs.count())] if tabs is not None \
        else ["window"]
    for i, name in enumerate(names):
        note = ""
        if tabs is not None:
            tabs.setCurrentIndex(i)
        for _ in range(5):
            QApplication.processEvents()
        page = tabs.widget(i) if tabs is not None else None
        if page is not None and page is win.embedding:
            t0 = time.monotonic()
            while not _views_settled(win, page) and time.monotonic() - t0 < settle_s:
                QApplication.processEvents()
                time.sleep(0.05)
            for _ in range(5):
                QApplication.processEvents()
            note = " (UMAP drawn)" if _views_settled(win, page) else " (UMAP still computing)"
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-") or f"tab{i}"
        path = f"{prefix}-{slug}.png"
        win.grab().save(path)
        out.append(path + note)
    welcome = win.first_steps.welcome
    if welcome is not None and welcome.isVisible():
        welcome.grab().save(f"{prefix}-welcome.png")
        out.append(f"{prefix}-welcome.png")
    return out


def configure_threads_env() -> None:
    """On machines with <= 2 cores the GUI, the trainer and UMAP share the cores: numba
    (UMAP) gets 1 thread (set before numba is imported; an explicit setting wins)."""
    if (os.cpu_count() or 1) <= 2:
        os.environ.setdefault("NUMBA_NUM_THREADS", "1")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        faulthandler.enable()  # a crash in Qt or torch prints the Python stacks (for a bug report)
    except (OSError, ValueError, AttributeError):  # stderr is not a real file (captured, embedded)
        pass
    configure_threads_env()
    args, qt_args = build_parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    from app.shell.platform_check import check_platform

    hint = check_platform()  # before Qt aborts the process with a plugin message
    if hint is not None:
        print(hint, file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from app.shell.settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")
    from app.i18n import choose_language, tr
    from app.shell.settings import StudioSettings

    # the studio's language, before any text is made: View > Language's choice, else the system's
    choose_language("" if args.reset else StudioSettings().language())
    app.setApplicationDisplayName(tr("SimCSE Studio"))
    from app.shell.language_menu import cjk_font_note

    note = cjk_font_note()
    if note:
        print(note, file=sys.stderr)
    from app.shell import main_thread_gc

    main_thread_gc.install(app)  # cycles (and the Qt objects in them) die on the GUI thread only
    win = create_window(args)
    win.show()
    if args.train:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(200, win.start_training)
    if args.screenshot:
        from PySide6.QtCore import QTimer

        def shoot() -> None:
            for path in save_screenshots(win, args.screenshot):
                print(f"screenshot: {path}", flush=True)
            win.close()

        QTimer.singleShot(int(args.screenshot_after * 1000), shoot)
    rc = int(app.exec())
    # the window is closed and everything it writes is written; let the pool's workers
    # (file reads, detectors, dropout views) end before the interpreter tears Qt down:
    # a worker still emitting into a deleted object crashed the process at exit
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(EXIT_WAIT_MS)
    return rc


if __name__ == "__main__":
    sys.exit(main())
