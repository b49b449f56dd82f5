"""Messages for a person, kept as a template and its values so that they can be shown in
another language.

The engine speaks English: ``str(msg)`` is the English text, what the CLI prints and the
logs and tests read. A :class:`Msg` also keeps the English template (``"{path}: no
such file"``) and the values apart, so the studio can translate the template and fill
in the same values (``app.i18n.tr_msg``). Values are shown as they are (file paths,
field names, numbers, the user's own text), except values that are themselves a
:class:`Msg` (an English phrase inside the message), which are translated in turn.

A Msg without values is plain text, shown as is (braces included); a Msg with values is
a :meth:`str.format` template (``{n:,}``, ``{name!r}`` and ``{{`` work as usual).

This module never imports Qt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, init=False)
class Msg:
    """An English ``template`` and its ``values``: ``Msg("{path}: no such file", path=p)``."""

    template: str
    values: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, template: str, /, **values: Any) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "values", dict(values))

    def __str__(self) -> str:
        return self.render(str)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __hash__(self) -> int:
        return hash((self.template, tuple(sorted((k, repr(v)) for k, v in self.values.items()))))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_msg, (self.template, dict(self.values)))

    def render(self, translate: Any) -> str:
        """The text with ``translate(template)`` for this message's template and every
        nested Msg's (``str`` gives the English): values that are a Msg are rendered the
        same way, other values are formatted as they are."""
        template = translate(self.template)
        if not self.values:
            return template
        values = {k: v.render(translate) if isinstance(v, Msg) else v for k, v in self.values.items()}
        return template.format(**values)

    def one_line(self) -> Msg:
        """This message with the whitespace of its plain-text values collapsed (a value
        holding a newline or a tab keeps a message on one line)."""
        return Msg(self.template, **{k: _squeeze(v) for k, v in self.values.items()})


def _make_msg(template: str, values: dict[str, Any]) -> Msg:
    return Msg(template, **values)


def _squeeze(value: Any) -> Any:
    if isinstance(value, Msg):
        return value.one_line()
    if isinstance(value, str) and re.search(r"\s", value) and value != " ".join(value.split()):
        return " ".join(value.split())
    return value


def plural(n: int, one: str, many: str) -> Msg:
    """A count with its noun: ``one`` when ``n`` is 1, else ``many``; both templates take
    ``{n}``, e.g. ``plural(k, "{n:,} sentence", "{n:,} sentences")`` gives "1 sentence",
    "1,560 sentences"."""
    return Msg(one if n == 1 else many, n=n)


def series(parts: list[Msg | str]) -> Msg | str:
    """``parts`` as one list for a sentence, "a, b, c" (each part a message or a value)."""
    if len(parts) == 1:
        return parts[0]
    return Msg("{first}, {rest}", first=parts[0], rest=series(parts[1:]))


def alternatives(parts: list[Msg | str]) -> Msg | str:
    """``parts`` as choices, "a or b or c"."""
    if len(parts) == 1:
        return parts[0]
    return Msg("{first} or {rest}", first=parts[0], rest=alternatives(parts[1:]))


__all__ = ["Msg", "alternatives", "plural", "series"]
