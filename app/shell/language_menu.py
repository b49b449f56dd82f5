"""View > Language: English or Simplified Chinese, saved in the settings (``ui/language``)
and used from the next start (the studio's texts are chosen once, before the window is
built: :func:`app.i18n.choose_language`)."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QFontDatabase

from app.i18n import LANGUAGES, language, tr


class LanguageMenu:
    """The "Language" submenu of the View menu: one checkable entry per language (the
    current one checked); choosing one saves it and says it takes effect at the next start."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.menu = ctx.menu("view").addMenu(tr("Language"))
        self.menu.setObjectName("languageMenu")
        group = QActionGroup(self.menu)
        group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for code, name in LANGUAGES.items():  # each language's own name, in any language
            a = QAction(name, self.menu)
            a.setObjectName(f"language_{code}")
            a.setCheckable(True)
            a.setChecked(code == language())
            a.triggered.connect(lambda _c=False, c=code: self.choose(c))
            group.addAction(a)
            self.menu.addAction(a)
            self.actions[code] = a

    def choose(self, code: str) -> None:
        """Save ``code`` as the language of the next start, and say so (in both languages)."""
        self.ctx.settings.set_language(code)
        self.ctx.settings.sync()
        note = {"en": "The language changes at the next start of the studio.",
                "zh": "界面语言将在下次启动工作室时生效。"}
        self.ctx.show_message(f"{tr('Language: {name}.').format(name=LANGUAGES[code])} {note['en']} {note['zh']}",
                              "info")


def cjk_font_note() -> str | None:
    """One line when the studio shows Chinese but no installed font has Chinese glyphs
    (Qt then draws boxes for them; nothing else breaks), else None. Needs a QGuiApplication."""
    if language() != "zh" or QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese):
        return None
    return ("simcse-studio: no font with Chinese glyphs is installed, so Chinese text shows as boxes; install one "
            "(e.g. fonts-noto-cjk or fonts-wqy-microhei) or choose View > Language > English")
