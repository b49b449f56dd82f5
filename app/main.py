"""``simcse-studio`` / ``python -m app``: start the studio.

    simcse-studio                 the default model and the demo corpus, ready to train
    simcse-studio --run DIR       open a run folder (replay its metrics and snapshots)
    simcse-studio --follow DIR    follow a run that ``simcse train`` is writing
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


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
    from .main_window import MainWindow

    win = MainWindow(settings=settings, runs_root=args.runs_root, torch_threads=default_torch_threads(args.torch_threads),
                     restore=not args.reset)
    if args.run:
        win.open_run(args.run, follow=False)
    elif args.follow:
        win.open_run(args.follow, follow=True)
    return win


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = build_parser().parse_known_args(list(sys.argv[1:] if argv is None else argv))
    from PySide6.QtWidgets import QApplication

    from .settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("SimCSE Studio")
    app.setStyle("Fusion")
    win = create_window(args)
    win.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
