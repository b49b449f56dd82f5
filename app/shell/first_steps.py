"""The ways in: the welcome's choices and the one-click ways to see learning.

:class:`FirstSteps` gets the context and two callables of the window (start training,
choose a run folder). It fills the Setup panel with a recipe (the first run's, the
from-scratch preset's, a higher dropout) and trains it, now or once the running run
has stopped; it owns the welcome dialog and the "nothing to learn" note
(:class:`~app.shell.guidance.LearningNote`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QMenu

from app.i18n import tr
from app.shell.guidance import HIGHER_DROPOUT, LearningNote, first_run_recipe, preset_config
from app.shell.welcome import Choice, WelcomeDialog


class FirstSteps(QObject):
    """See the module doc. ``start_training()`` trains the Setup panel's recipe (with
    its checks); ``choose_run(follow)`` asks for a run folder."""

    def __init__(self, ctx: Any, start_training: Callable[[], bool], choose_run: Callable[[bool], None],
                 parent: QObject | None = None, tour: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tour = tour  # the welcome's "Take the tour" (app/tour)
        self.start_training = start_training
        self.choose_run = choose_run
        self.welcome: WelcomeDialog | None = None
        self.recipe_missing = ""  # why the first-run recipe is not there ("" when it is)
        self._after_stop: Callable[[], Any] | None = None
        ctx.runs.run_finished.connect(self._run_ended)
        self.note = LearningNote(ctx.runs, lambda text, actions: ctx.show_message(text, "info", actions),
                                 self.learning_ways, self)

    @property
    def panel(self) -> Any:
        return self.ctx.parts.setup

    # ---------------------------------------------------------------- recipes
    def use_first_run_recipe(self) -> bool:
        """Fill the Setup panel with the first-run recipe; False (said) when it is missing."""
        cfg, why = first_run_recipe()
        self.recipe_missing = why
        self.panel.show_own_setup()
        if cfg is None:
            self.ctx.show_message(why, "info")
            return False
        self.panel.apply_config(cfg)
        return True

    def watch_learning(self) -> None:
        """The first-run recipe, trained (the reference recipe when it is missing)."""
        if not self.use_first_run_recipe():
            self.panel.reset_to_defaults()
        self.train_now()

    def from_scratch(self) -> None:
        cfg, why = preset_config("from_scratch")
        if cfg is None:
            self.ctx.show_message(why)
            return
        self.panel.show_own_setup()
        self.panel.apply_config(cfg)
        self.train_now()

    def train_with(self, values: dict[str, Any]) -> None:
        """The person's setup with ``values`` changed, trained."""
        self.panel.show_own_setup()
        self.panel.set_values({**self.panel.values(), **values})
        self.train_now()

    def train_now(self) -> None:
        """Train the Setup panel's recipe: now, or when the running run has stopped."""
        runs = self.ctx.runs
        if runs.training:
            self._after_stop = self.start_training
            runs.stop()
            self.ctx.show_status(tr("stopping the current run; the new one starts when it has stopped"), 10_000)
        else:
            self.start_training()

    def _run_ended(self, _end: Any) -> None:
        then, self._after_stop = self._after_stop, None
        if then is not None:
            QTimer.singleShot(0, then)

    def choose_corpus(self) -> None:
        """The Setup panel's corpus file dialog (then the person presses Train)."""
        self.panel.show_own_setup()
        self._show_setup()
        button = self.panel.browse_buttons.get("corpus_path")
        if button is not None:
            button.click()

    def fine_tune(self) -> None:
        """The pretrained default model on a corpus of the person's choice."""
        self.panel.show_own_setup()
        self.panel.set_values({"model_kind": "default", "model_folder": ""})
        self.choose_corpus()

    def _show_setup(self) -> None:
        dock = self.ctx.parts.docks.get("setupDock")
        if dock is not None:
            dock.show()
            dock.raise_()

    def learning_ways(self) -> list[tuple[str, Callable[[], Any]]]:
        """One-click ways to see learning (the "nothing to learn" note's buttons)."""
        return [(tr("First-run recipe"), self.watch_learning), (tr("From scratch"), self.from_scratch),
                (tr("Choose a corpus…"), self.choose_corpus),
                (tr("Dropout {p}").format(p=f"{HIGHER_DROPOUT:g}"),
                 lambda: self.train_with({"dropout": HIGHER_DROPOUT}))]

    # ---------------------------------------------------------------- welcome
    def choices(self) -> list[Choice]:
        cfg, why = first_run_recipe()
        watch = (tr("Trains the first-run recipe: the default model with its top layer re-initialised, 100 steps "
                    "on the demo corpus (a few minutes on a laptop). The loss falls from its chance line and the "
                    "points spread over the sphere.") if cfg is not None
                 else tr("{why}. Trains the reference recipe.").format(why=why))
        return [
            Choice("watch", tr("Watch SimCSE learn"), watch, self.watch_learning),
            Choice("finetune", tr("Fine-tune on my corpus…"),
                   tr("The pretrained all-MiniLM-L6-v2 on your sentences (.txt, .csv, .tsv or .jsonl): choose "
                      "the file, check the Setup panel, press Train."), self.fine_tune),
            Choice("run", tr("Open or follow a run…"),
                   tr("A finished run folder (replayed), or one that `simcse train` is writing, here or on a "
                      "server through a shared folder (followed, even before it starts)."), self._run_menu),
            Choice("presets", tr("Presets…"), tr("Runs that show one idea each (temperature, dropout, from "
                   "scratch), compared side by side when they finish."), self._presets_menu),
        ] + ([Choice("tour", tr("Take the tour"), tr("Six short chapters, one per question the studio answers, each "
                     "opening the live view it is about: with no run, while one trains, or on a replayed run."),
                     self.tour)] if self.tour is not None else [])

    def show_welcome(self) -> WelcomeDialog:
        if self.welcome is not None:
            self.welcome.close()
            self.welcome.deleteLater()
        settings = self.ctx.settings
        self.welcome = WelcomeDialog(self.choices(), settings.show_welcome_at_start(),
                                     settings.set_show_welcome_at_start, self.ctx.dialog_parent)
        self.welcome.show()
        self.welcome.raise_()
        return self.welcome

    def _run_menu(self) -> None:
        menu = QMenu(self.ctx.dialog_parent)
        menu.addAction(tr("Open a run folder (replay)…"), lambda: self.choose_run(False))
        menu.addAction(tr("Follow a run folder…"), lambda: self.choose_run(True))
        menu.popup(QCursor.pos())

    def _presets_menu(self) -> None:
        self.ctx.menu("presets").popup(QCursor.pos())
