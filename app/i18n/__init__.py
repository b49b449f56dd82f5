"""The studio's two languages: English (the source strings) and Simplified Chinese.

Every user-visible string in ``app/`` is written in English and passed through
:func:`tr` where it is shown; :func:`tr` returns it in the current language. The
Chinese texts live in string tables (``zh_*.py`` in this package, one per part of the
studio, each a ``dict`` from the English text to its Chinese text), merged at import.
A test checks that every string the studio shows has both versions.

The language is chosen once per process, before the window is built: the View menu's
choice saved in the settings (``ui/language``: "en", "zh" or "" for the system's), else
the system locale (``QLocale.system()``; a Chinese locale gives Chinese). Switching
takes effect at the next start, as the menu says.

Format strings: translate the template, then format (``tr("step {n}").format(n=5)``),
so one table entry covers every value.

The engine's messages (its errors, the corpus summary) are English templates with their
values (:class:`simcse_core.messages.Msg`); :func:`tr_msg` and :func:`tr_error` show them
in the current language. Their Chinese texts are in ``zh_engine.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import string
from typing import Any

from simcse_core.errors import SimCSEError
from simcse_core.messages import Msg

LANGUAGES = {"en": "English", "zh": "简体中文"}
_language = "en"
_tables: dict[str, dict[str, str]] | None = None


def _load_tables() -> dict[str, dict[str, str]]:
    """{code: {english: text}} for each language but English, from every ``<code>_*``
    module of this package (``zh_shell``, ``zh_panels``, ...)."""
    out: dict[str, dict[str, str]] = {code: {} for code in LANGUAGES if code != "en"}
    for info in pkgutil.iter_modules(__path__):
        code = info.name.split("_", 1)[0]
        if code in out and "_" in info.name:
            module = importlib.import_module(f"{__name__}.{info.name}")
            out[code].update(module.TABLE)
    return out


def tables() -> dict[str, dict[str, str]]:
    global _tables
    if _tables is None:
        _tables = _load_tables()
    return _tables


def tr(text: str) -> str:
    """``text`` (English) in the current language; English when no translation exists."""
    if _language == "en":
        return text
    return tables().get(_language, {}).get(text, text)


def N_(text: str) -> str:
    """Mark ``text`` for translation where it is defined (a table of labels) and return it
    unchanged; it is translated where it is shown, with ``tr(variable)``. The completeness
    test (``tests/app/test_i18n.py``) collects the literals of ``tr()`` and ``N_()``."""
    return text


def tr_match(text: str, templates: "tuple[str, ...] | list[str]") -> str:
    """``text`` made elsewhere from one of the English ``templates`` (the engine's phase
    texts, e.g. "reading and tokenising {corpus}"), in the current language: the first
    template that matches the whole text is translated and filled with the matched values.
    ``text`` itself when none matches (or in English)."""
    if _language == "en":
        return text
    for template in templates:
        pattern = "".join(re.escape(lit) + (f"(?P<{name}>.+?)" if name else "")
                          for lit, name, _spec, _conv in string.Formatter().parse(template))
        m = re.fullmatch(pattern, text, flags=re.S)
        if m:
            return tr(template).format(**m.groupdict())
    return text


def tr_msg(msg: Any) -> str:
    """An engine message (:class:`~simcse_core.messages.Msg`) in the current language:
    its template and those of the messages among its values translated, the other
    values (paths, field names, numbers) as they are. Anything else: ``str(msg)``."""
    if not isinstance(msg, Msg) or _language == "en":
        return str(msg)
    try:
        return msg.render(tr)
    except (KeyError, IndexError, ValueError):  # a table entry that lost a placeholder: the English
        return str(msg)


def tr_error(exc: BaseException) -> str:
    """The message of an engine error (:class:`~simcse_core.errors.SimCSEError`) in the
    current language; ``str(exc)`` for any other exception."""
    return tr_msg(exc.msg) if isinstance(exc, SimCSEError) else str(exc)


def language() -> str:
    return _language


def set_language(code: str) -> str:
    """Use ``code`` ("en" or "zh"; anything else: English) from now on; returns it."""
    global _language
    _language = code if code in LANGUAGES else "en"
    return _language


def system_language() -> str:
    """"zh" when the system locale is Chinese, else "en"."""
    from PySide6.QtCore import QLocale

    return "zh" if QLocale.system().language() == QLocale.Language.Chinese else "en"


def choose_language(saved: str) -> str:
    """The language for this process: ``saved`` ("en"/"zh") if set, else the system's."""
    return set_language(saved if saved in LANGUAGES else system_language())


__all__ = ["LANGUAGES", "N_", "choose_language", "language", "set_language", "system_language", "tables", "tr",
           "tr_error", "tr_match", "tr_msg"]
