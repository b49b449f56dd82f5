"""What the studio says before and at the start of a run, so the first ten minutes
teach rather than puzzle.

- :func:`first_run_recipe`: the first-run recipe (``resources/presets/first_run.json``)
  as a TrainConfig, read defensively (a missing preset is said, not raised).
- :func:`start_problems`: checks of a setup before Train: a batch that does not fit the
  corpus (one step and "finished at step 1/1" without a word), a corpus the model's
  tokenizer cannot read. Each problem comes with fixes for the message bar.
- :class:`LearningNote`: after a run's step-0 snapshot, says when there is nothing to
  learn (the loss already under 5% of chance) and offers ways to see learning.

All Qt-free except :class:`LearningNote`, which listens to the run controller.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from simcse_core.config import TrainConfig
from simcse_core.errors import SimCSEError

from app.i18n import tr, tr_error

MIN_STEPS = 10  # fewer steps than this in a run: say so before it starts
NOTHING_TO_LEARN = 0.05  # step-0 loss under this share of the chance loss: nothing to learn
HIGHER_DROPOUT = 0.3  # the "higher dropout" way to see learning


def first_run_recipe() -> tuple[TrainConfig | None, str]:
    """(the first-run recipe as a TrainConfig, "") or (None, why it is missing). Uses
    the engine's ``first_run_config()`` where it exists, else the bundled preset."""
    try:
        from simcse_core import presets
    except ImportError as e:  # pragma: no cover - the engine ships it
        return None, tr("the presets module cannot be loaded ({error})").format(error=e)
    try:
        make = getattr(presets, "first_run_config", None)
        if make is not None:
            return make(), ""
        _label, cfg = presets.load_preset("first_run").configs()[0]
        return cfg, ""
    except (SimCSEError, OSError, ValueError, IndexError) as e:
        return None, tr("the first-run recipe is missing ({error}); the reference recipe is used instead").format(
            error=tr_error(e))


def preset_config(name: str) -> tuple[TrainConfig | None, str]:
    """(the first run of the bundled preset ``name`` as a TrainConfig, "") or (None, why)."""
    try:
        from simcse_core.presets import load_preset

        _label, cfg = load_preset(name).configs()[0]
        return dataclasses.replace(cfg, output_dir=None), ""
    except (SimCSEError, OSError, ValueError, IndexError) as e:
        return None, tr("preset {name}: {error}").format(name=name, error=tr_error(e))


# ----------------------------------------------------------------------------- Train
@dataclass
class Problem:
    """One thing to say before a run starts, with fixes: (label, values for the setup
    panel) each; the panel is filled with the values and the run starts."""

    text: str
    fixes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def planned_steps(n_sentences: int, batch: int, max_steps: int, epochs: float) -> tuple[int, int]:
    """(the batch the engine will use, the steps it will run) for a corpus of
    ``n_sentences`` (the engine cuts a batch larger than the corpus to the corpus)."""
    used = min(batch, n_sentences) if n_sentences >= 2 else batch
    per_epoch = max(1, n_sentences // max(1, used))
    return used, (max_steps if max_steps > 0 else max(1, math.ceil(epochs * per_epoch)))


def fitting_batch(n_sentences: int) -> int:
    """A batch that gives a small corpus a few steps an epoch: the largest power of two
    at most a quarter of it (at least 2, at most 64)."""
    b = 2
    while b * 2 <= max(2, n_sentences // 4) and b * 2 <= 64:
        b *= 2
    return b


def batch_problem(config: TrainConfig, n_sentences: int) -> Problem | None:
    """A run too short to watch: a batch larger than the corpus, or fewer than
    :data:`MIN_STEPS` steps in all."""
    batch = config.per_device_train_batch_size
    used, steps = planned_steps(n_sentences, batch, config.max_steps, config.num_train_epochs)
    if n_sentences < 2 or (batch <= n_sentences and steps >= MIN_STEPS):
        return None
    if batch > n_sentences:
        text = (tr("The corpus has {n} sentences and the batch is {batch}: the batch would be cut to {used} and "
                   "the run would take {steps} steps") if steps != 1 else
                tr("The corpus has {n} sentences and the batch is {batch}: the batch would be cut to {used} and "
                   "the run would take 1 step"))
    else:
        text = (tr("Batch {batch} on {n} sentences gives {steps} steps in all") if steps != 1 else
                tr("Batch {batch} on {n} sentences gives 1 step in all"))
    text = text.format(n=f"{n_sentences:,}", batch=batch, used=used, steps=steps)
    text += tr(" (too short to see anything learnt). ")
    fit = fitting_batch(n_sentences)
    per_epoch = n_sentences // fit
    text += tr("Batch {fit} gives {per_epoch} steps an epoch; cycling over the corpus for 100 steps shows "
               "learning.").format(fit=fit, per_epoch=per_epoch)
    fixes = [(tr("Batch {fit}, 100 steps").format(fit=fit), {"per_device_train_batch_size": fit, "max_steps": 100}),
             (tr("Batch {fit}").format(fit=fit), {"per_device_train_batch_size": fit})]
    return Problem(text, fixes)


def start_problems(config: TrainConfig, preview: Any, vocab_message: str = "") -> list[Problem]:
    """What to say before ``config`` trains, from the setup panel's corpus ``preview``
    (a :class:`~app.runs.workers.CorpusPreview` of the run's corpus, or None when not
    read yet: then nothing is checked) and its vocabulary message."""
    if preview is None:
        return []
    out = []
    p = batch_problem(config, int(preview.n_sentences))
    if p is not None:
        out.append(p)
    if vocab_message and getattr(preview, "model", "") == config.model_name_or_path:
        out.append(Problem(vocab_message))
    return out


def same_file(a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return a == b


# ------------------------------------------------------------------ nothing to learn
def nothing_to_learn(snapshot: Any, chance: float | None = None) -> tuple[float, float] | None:
    """(step-0 loss, chance loss) when a run's first snapshot already sits under
    :data:`NOTHING_TO_LEARN` of chance (the model tells the sentences apart already),
    else None. ``chance``: the run model's, when the snapshot lacks it."""
    if snapshot is None or int(getattr(snapshot, "step", 1)) != 0:
        return None
    scalars = getattr(snapshot, "scalars", {}) or {}
    loss = getattr(snapshot, "loss", math.nan)
    if not math.isfinite(loss):
        loss = float(scalars.get("loss_last", math.nan))
    c = float(scalars.get("chance_loss", chance if chance is not None else math.nan))
    if not (math.isfinite(loss) and math.isfinite(c) and c > 0):
        return None
    return (loss, c) if loss < NOTHING_TO_LEARN * c else None


class LearningNote(QObject):
    """Says once a run when its step-0 loss is already under 5% of chance, with one-click
    ways to see learning. ``say(text, actions)`` shows it (the window's message bar);
    ``ways`` are (label, callable) pairs."""

    def __init__(self, runs: Any, say: Callable[[str, list[tuple[str, Callable[[], Any]]]], None],
                 ways: Callable[[], list[tuple[str, Callable[[], Any]]]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runs = runs
        self.say = say
        self.ways = ways
        self.said_for: str | None = None
        self.last_text = ""
        runs.run_begun.connect(lambda *_a: setattr(self, "said_for", None))
        runs.snapshot_received.connect(lambda _s: self.check())
        runs.run_updated.connect(self.check)

    def check(self) -> bool:
        """Say it if the shown run's first snapshot has nothing to learn (once a run)."""
        model = self.runs.model
        snaps = model.snapshots
        key = str(model.run_dir)
        if not snaps or self.said_for == key:
            return False
        self.said_for = key
        found = nothing_to_learn(snaps[0], getattr(model, "chance_loss", None))
        if found is None:
            return False
        loss, chance = found
        self.last_text = tr(
            "Nothing to learn here: the step-0 loss is already {loss}, under 5% of chance ({chance}). "
            "The model already tells these sentences apart, so the curves will stay flat. Ways to watch "
            "SimCSE learn:").format(loss=f"{loss:.3g}", chance=f"{chance:.3g}")
        self.say(self.last_text, self.ways())
        return True
