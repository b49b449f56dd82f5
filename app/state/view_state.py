"""What the views show, as data: one evented object, no Qt.

Widgets never keep their own copy of these choices: they read a :class:`ViewState`,
write it when the person changes something, and subscribe to its change events to
redraw. Sessions save and restore it (:meth:`ViewState.as_dict`,
:meth:`ViewState.restore`), never widgets. This follows napari's evented models: a
typed class whose fields emit an event when they change.

Listeners run synchronously on the thread that set the field; in the studio that is
always the GUI thread (workers hand results back through queued signals first).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[[Any], None]


class Evented:
    """Mixin for dataclasses: setting a field to a new value calls that field's
    listeners with the new value, then the ``"*"`` listeners with ``(name, value)``.

    Fields whose name starts with ``_`` are private and never emit."""

    _listeners: dict[str, list[Callable[..., None]]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_listeners", {})
        object.__setattr__(self, "_ready", True)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_") or not getattr(self, "_ready", False):
            object.__setattr__(self, name, value)
            return
        if name not in self.field_names():
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        old = getattr(self, name)
        value = self._coerce(name, value)
        if _same(old, value):
            return
        object.__setattr__(self, name, value)
        for fn in list(self._listeners.get(name, ())):
            fn(value)
        for fn in list(self._listeners.get("*", ())):
            fn(name, value)

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if not f.name.startswith("_"))  # type: ignore[arg-type]

    def _coerce(self, name: str, value: Any) -> Any:
        """Hook for subclasses: check or normalise a value before it is set."""
        return value

    def connect(self, name: str, fn: Callable[..., None]) -> Callable[..., None]:
        """Call ``fn(value)`` when field ``name`` changes (``"*"``: ``fn(name, value)``
        for every field). Returns ``fn`` (usable as a decorator)."""
        if name != "*" and name not in self.field_names():
            raise AttributeError(f"{type(self).__name__} has no field {name!r}")
        self._listeners.setdefault(name, []).append(fn)
        return fn

    def disconnect(self, name: str, fn: Callable[..., None]) -> None:
        lst = self._listeners.get(name, [])
        if fn in lst:
            lst.remove(fn)

    def update(self, **values: Any) -> None:
        """Set several fields (each emits its own event when it changes)."""
        for k, v in values.items():
            setattr(self, k, v)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.field_names()}

    def restore(self, values: dict[str, Any]) -> list[str]:
        """Set the known fields of ``values`` that pass their checks; returns the names
        skipped (unknown, or a bad value: a session from another version)."""
        skipped: list[str] = []
        for k, v in values.items():
            if k not in self.field_names():
                skipped.append(k)
                continue
            try:
                setattr(self, k, v)
            except (TypeError, ValueError) as e:
                log.info("view state %s=%r not restored: %s", k, v, e)
                skipped.append(k)
        return skipped


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except (TypeError, ValueError):  # numpy arrays and the like: identity only
        return a is b


SPHERE_METHODS = ("pca", "umap", "raw")


@dataclass(eq=False)
class ViewState(Evented):
    """The studio's shared view choices.

    - ``snapshot_index``: the snapshot the embedding views, lens and exports show;
      -1 follows the newest. The only place the shown snapshot lives.
    - ``colour_by``: a probe label column, ``"k-means"``, ``"none"`` or ``""`` (not yet
      chosen: the first label column when one arrives).
    - ``kmeans_k``: clusters for ``colour_by == "k-means"``.
    - ``sphere_method``: ``"pca"`` (PCA-3, normalised) or ``"umap"`` (haversine UMAP).
    - ``umap_every``: a UMAP layout every N probe snapshots; ``umap_enabled``.
    - ``tab``: the central tab shown (its title).
    """

    snapshot_index: int = -1
    colour_by: str = ""
    kmeans_k: int = 8
    sphere_method: str = "raw"
    umap_every: int = 5
    umap_enabled: bool = True
    tab: str = ""
    _ready: bool = field(default=False, init=False, repr=False)

    @property
    def follow_newest(self) -> bool:
        return self.snapshot_index < 0

    def _coerce(self, name: str, value: Any) -> Any:
        if name in ("snapshot_index", "umap_every", "kmeans_k"):
            if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
                raise TypeError(f"view state field {name!r}: an integer, not {value!r}")
            value = int(value)
            if name == "snapshot_index":
                return max(-1, value)
            return max(2 if name == "kmeans_k" else 1, value)
        if name == "sphere_method" and value not in SPHERE_METHODS:
            raise ValueError(f"view state field 'sphere_method': one of {SPHERE_METHODS}, not {value!r}")
        if name == "umap_enabled":
            return bool(value)
        if name in ("colour_by", "tab"):
            return "" if value is None else str(value)
        return value

    def reset_for_new_run(self) -> None:
        """A new run: follow its newest snapshot (what was scrubbed to belongs to the
        old run)."""
        self.snapshot_index = -1
