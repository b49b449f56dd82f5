"""Background work for the studio: training, corpus reading, run folders, model saving.

The GUI thread never trains, encodes or reads large files. Each worker here hands
plain data (snapshots, corpora, lists of records) back through queued Qt signals.

- :class:`TrainWorker`: a ``QThread`` running the engine's ``train()`` generator. A
  QThread (not a pool runnable) so the window can ``wait()`` for it on close.
- :class:`StudioControl`: the engine's ``TrainControl`` plus a hook that tells the
  studio when the trainer is actually blocked in a pause.
- :func:`read_corpus_preview`, :func:`read_run_updates`, :func:`copy_model`: plain
  functions run with superqt's ``create_worker`` (one short job each).
"""

from __future__ import annotations

import logging
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QThread, Signal

from simcse_core.config import TrainConfig
from simcse_core.control import TrainControl
from simcse_core.errors import SimCSEError
from simcse_core.snapshot import Snapshot

from app.i18n import N_, tr, tr_error, tr_msg

log = logging.getLogger(__name__)


class StudioControl(TrainControl):
    """A :class:`TrainControl` that reports when the trainer starts waiting in a pause
    (``on_paused`` is called from the training thread, so it must only emit a signal)."""

    def __init__(self, on_step: Callable[[int, int, float], None] | None = None,
                 on_paused: Callable[[], None] | None = None,
                 on_status: Callable[[str], None] | None = None) -> None:
        super().__init__(on_step, on_status)
        self.on_paused = on_paused

    def wait_if_paused(self, timeout: float | None = None) -> None:
        if self.paused and self.on_paused is not None:
            self.on_paused()
        super().wait_if_paused(timeout)


# the engine's phase texts (TrainControl.status), for :func:`app.i18n.tr_match`
ENGINE_PHASES = (
    N_("loading the model ({model})"),
    N_("reading and tokenising {corpus}"),
    N_("compiling the model (torch.compile; the first steps are slow)"),
    N_("{n} sentences tokenised; choosing the probe set"),
    N_("step 0: the starting model on its first batch and the probe set ({n} sentences)"),
)


def error_text(exc: BaseException) -> str:
    """One line for a person: the engine's own message, or the type and message of an
    unexpected error (its traceback goes to the log, not the window)."""
    if isinstance(exc, SimCSEError):
        return tr_error(exc)
    text = str(exc)
    if isinstance(exc, MemoryError) or "out of memory" in text.lower() or "can't allocate memory" in text:
        return tr("out of memory; try a smaller batch size or a shorter max length "
                  "(the last checkpoint is kept)")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return tr("unexpected error: {error}").format(error=type(exc).__name__ + (f": {first}" if first else ""))


class TrainWorker(QThread):
    """Runs ``train(config, control)`` in its own thread.

    Signals (all queued to the GUI thread):

    - ``snapshot(Snapshot)``: every snapshot, in order.
    - ``progress(step, total, steps_per_sec)``: after every optimizer step.
    - ``status(text)``: the trainer enters a phase before its first step (loading the
      model, tokenising the corpus, encoding the probe set).
    - ``paused_reached()``: the trainer is blocked in a pause (no step runs now).
    - ``failed(message)``: a one-line error; the run folder keeps its checkpoints.
    - ``completed(result)``: the engine's TrainResult (``None`` after a failure).
    """

    snapshot = Signal(object)
    progress = Signal(int, int, float)
    status = Signal(str)
    paused_reached = Signal()
    failed = Signal(str)
    completed = Signal(object)

    def __init__(self, config: TrainConfig, torch_threads: int | None = None, parent: Any = None) -> None:
        super().__init__(parent)
        self.config = config
        self.torch_threads = torch_threads
        self.control = StudioControl(on_step=self._on_step, on_paused=self.paused_reached.emit,
                                     on_status=self.status.emit)
        self.result: Any = None
        self.error: str | None = None
        self.last_step = 0

    def _on_step(self, step: int, total: int, sps: float) -> None:
        self.last_step = step
        self.progress.emit(step, total, sps)  # a queued signal: never touch widgets here

    def run(self) -> None:  # the training thread
        from simcse_core.trainer import train

        if self.torch_threads:
            import torch

            torch.set_num_threads(int(self.torch_threads))
        gen = train(self.config, self.control)
        try:
            while True:
                snap = next(gen)
                self.snapshot.emit(snap)
        except StopIteration as stop:
            self.result = stop.value
        except SimCSEError as e:
            self.error = error_text(e)
        except Exception as e:  # a bug or the OS: say it in the window, keep the trace in the log
            log.error("training failed:\n%s", traceback.format_exc())
            self.error = error_text(e)
        finally:
            gen.close()
        if self.error is not None:
            self.failed.emit(self.error)
        self.completed.emit(self.result)


# ---------------------------------------------------------------------------- jobs
@dataclass
class CorpusPreview:
    """What the setup panel shows about a corpus file."""

    path: str
    summary: str  # the engine's summary line (Corpus.summary_msg), in the studio's language
    n_sentences: int
    n_empty: int
    n_duplicates: int
    headers: list[str]
    rows: list[list[str]]
    vocab_message: str = ""  # the engine's message when the model cannot read much of it
    model: str = ""  # the model spec the vocabulary was measured with


def read_corpus_preview(path: str, text_column: str | None = None, n_rows: int = 8,
                        model: str | None = None) -> CorpusPreview:
    """Read a corpus with the engine (raises DataError with its one-line message);
    with ``model`` (a model spec) also measure the share of its tokens that model's
    tokenizer cannot read (:func:`simcse_core.vocab.unknown_share`)."""
    from simcse_core.data import read_corpus

    corpus = read_corpus(path, text_column=text_column)
    cols = list(corpus.columns)
    headers = [corpus.text_column or "text"] + cols
    rows = [[corpus.sentences[i]] + [corpus.columns[c][i] for c in cols] for i in range(min(n_rows, len(corpus)))]
    out = CorpusPreview(str(path), tr_msg(corpus.summary_msg()), len(corpus), corpus.n_empty, corpus.n_duplicates, headers, rows)
    if model:
        out.vocab_message, out.model = vocab_message(model, corpus.sentences), model
    return out


def vocab_text(report: Any, model_name: str) -> str:
    """The studio's words for a :class:`~simcse_core.vocab.VocabReport` (in its
    language; the engine's own ``message`` is English): "" when the corpus is readable."""
    if not report.too_many:
        return ""
    examples = tr(" (e.g. {chars})").format(chars=" ".join(report.examples[:6])) if report.examples else ""
    return tr("{model} cannot read much of this corpus: {tokens} of its tokens become the unknown token and "
              "{chars} of its characters are outside the model's vocabulary{examples}. Those sentences look "
              "alike to the model, so training, the maps and the neighbours mean little. Load a model made for "
              "this language: any local Hugging Face or sentence-transformers folder.").format(
        model=model_name, tokens=f"{report.unk_token_share:.0%}", chars=f"{report.oov_char_share:.0%}", examples=examples)


def vocab_message(model: str, sentences: list[str]) -> str:
    """The engine's "cannot read much of this corpus" message for ``model`` (a spec), or
    "" when the corpus is readable or the tokenizer cannot be loaded (the model's own
    error is said when training starts)."""
    from simcse_core.model import parse_reinit
    from simcse_core.vocab import load_tokenizer, unknown_share

    spec = str(model).strip()
    base = parse_reinit(spec)[0] if spec.startswith("reinit:") else spec
    name = tr("the default model") if base.removeprefix("random:") in ("", "default") else \
        tr("model {spec}").format(spec=spec)
    for attempt in range(2):
        try:
            return vocab_text(unknown_share(load_tokenizer(base), sentences), name)
        except ImportError as e:  # transformers' lazy import racing another thread's: once more
            if attempt:
                log.debug("vocabulary check skipped: %s", e)
        except Exception as e:  # noqa: BLE001 - a check must never fail the corpus preview
            log.debug("vocabulary check skipped: %s", e)
            break
    return ""


@dataclass
class RunUpdate:
    """New content of a run folder since the last read."""

    snapshots: list[Snapshot] = field(default_factory=list)
    probe: dict[str, Any] | None = None
    config: dict[str, Any] = field(default_factory=dict)
    finished: bool = False
    lazy_steps: list[int] = field(default_factory=list)  # steps whose probe embeddings stay on disk


def _lazy_folder(reader: Any, eager_bytes: int) -> bool:
    """Whether a run folder's probe embeddings (all snapshots, float16) exceed ``eager_bytes``."""
    steps = reader.snapshot_steps()
    if not steps:
        return False
    path = reader.root / "snapshots" / f"step_{steps[-1]:07d}.npz"
    try:
        with np.load(path, allow_pickle=False) as z:
            if "probe_embeddings" not in z.files:
                return False
            with z.zip.open("probe_embeddings.npy") as f:  # the header only: its shape
                fmt = np.lib.format
                version = fmt.read_magic(f)
                header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                shape = header(f)[0]
    except Exception:
        return False
    return len(steps) * int(np.prod(shape)) * 2 > eager_bytes


def folder_removed(root: Any) -> SimCSEError:
    """The one-line error for a run folder that was removed while it was shown."""
    return SimCSEError(tr("the run folder {path} was removed; what was shown is kept").format(path=root))


def read_run_updates(reader: Any, with_probe: bool, with_config: bool, lazy: bool | None = None,
                     eager_bytes: int | None = None) -> RunUpdate:
    """:func:`poll_run_folder` with a removed or unreadable folder said in one line
    (a :class:`SimCSEError`, never a bare OSError)."""
    root = Path(reader.root)
    if not root.is_dir():
        raise folder_removed(root)
    try:
        return poll_run_folder(reader, with_probe, with_config, lazy, eager_bytes)
    except OSError as e:
        if not root.is_dir():
            raise folder_removed(root) from None
        raise SimCSEError(tr("run folder {path}: cannot be read ({error})").format(path=root, error=e.strerror or e)) from None


def poll_run_folder(reader: Any, with_probe: bool, with_config: bool, lazy: bool | None = None,
                    eager_bytes: int | None = None) -> RunUpdate:
    """Poll a :class:`~simcse_core.runs.RunReader` and load the new snapshots' arrays
    (``with_probe``: also probe.json, until it has appeared). Run in a worker; one
    reader is never polled by two workers at once.

    ``lazy``: leave the probe embeddings on disk (their steps go to ``lazy_steps``; the
    studio loads one when it is shown). ``None`` decides by size: lazy when the folder's
    probe embeddings would exceed ``eager_bytes`` (default :data:`app.state.run_model.EAGER_BYTES`)."""
    from app.state.run_model import EAGER_BYTES, load_npz_arrays

    records = reader.poll()
    if lazy is None:
        lazy = bool(records) and _lazy_folder(reader, EAGER_BYTES if eager_bytes is None else eager_bytes)
    if lazy:
        snaps, lazy_steps = [], []
        for r in records:
            arrays = {}
            if r.get("has_arrays", True):
                path = reader.root / "snapshots" / f"step_{int(r['step']):07d}.npz"
                arrays = load_npz_arrays(path, skip=("probe_embeddings",))
                if arrays:
                    lazy_steps.append(int(r["step"]))
            snaps.append(Snapshot.from_record(r, arrays))
    else:
        snaps, lazy_steps = [reader.snapshot(r) for r in records], []
    out = RunUpdate(snaps, reader.probe() if with_probe else None, finished=reader.finished(), lazy_steps=lazy_steps)
    if with_config:
        out.config = reader.config
    return out


def copy_model(source: str, dest: str) -> str:
    """Copy a sentence-transformers folder to ``dest`` (created; must be empty if it exists)."""
    src, dst = Path(source), Path(dest)
    if not src.is_dir():
        raise SimCSEError(tr("the model folder {path} was removed; nothing to save").format(path=src))
    if not (src / "modules.json").is_file() and not (src / "config.json").is_file():
        raise SimCSEError(tr("{path}: not a saved model folder").format(path=src))
    if dst.exists() and any(dst.iterdir()):
        raise SimCSEError(tr("{path}: the folder is not empty; choose an empty or new folder").format(path=dst))
    try:
        shutil.copytree(src, dst, dirs_exist_ok=True)
    except OSError as e:
        if not src.is_dir():
            raise SimCSEError(tr("the model folder {path} was removed while it was copied to {dest}").format(path=src, dest=dst)) from None
        raise SimCSEError(tr("{path}: cannot write the model ({error})").format(path=dst, error=e.strerror or e)) from None
    return str(dst)
