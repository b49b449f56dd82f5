"""Presets: a few short runs that show one idea side by side (a temperature sweep, the
dropout ablation, training from scratch).

A preset is a plain JSON file a user can copy and edit::

    {
      "name": "temperature_tour",            # folder name: letters, digits, _ and -
      "title": "Temperature tour",
      "description": "what it shows, what to look for, the paper's numbers",
      "base": {"max_steps": 80, "temp": 0.05, ...},     # TrainConfig fields for every run
      "runs": [{"label": "t = 1", "overrides": {"temp": 1.0}}, ...]
    }

The bundled ones live in ``resources/presets/``; :func:`load_preset` takes one of their
names or the path of any preset file. Every run's config is ``base`` updated with its
``overrides``, checked as a :class:`~simcse_core.config.TrainConfig` (an unknown field or
a bad value raises :class:`~simcse_core.errors.ConfigError` naming the file and the run).

:func:`run_preset` trains the runs one after another into::

    output_root/<name>/preset.json       the preset, each run's folder and state
    output_root/<name>/<slug of label>/  an ordinary run folder (see :mod:`simcse_core.runs`)

so the studio can open all runs of a preset together (:func:`read_preset_folder`).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import TrainConfig
from .errors import ConfigError
from .messages import Msg
from .snapshot import Snapshot

PRESET_FILE = "preset.json"  # written by run_preset in output_root/<name>/
PRESET_KEYS = ("name", "title", "description", "base", "runs", "translations")
TRANSLATION_KEYS = ("title", "description", "labels")
RUN_KEYS = ("label", "overrides")
# Fields a preset may not set: run_preset chooses each run's folder, and a preset run
# always starts fresh.
RESERVED = ("output_dir", "resume_from_checkpoint")

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def presets_dir() -> Path:
    """The bundled presets (``resources/presets/``)."""
    import resources  # the repository's top-level data package; imported lazily

    return Path(resources.__file__).parent / "presets"


def slugify(label: str) -> str:
    """A folder name for a run label: ``"t = 0.05"`` -> ``"t-0.05"``, ``"same mask"`` ->
    ``"same-mask"``. Lower case letters, digits, ``.``, ``_`` and ``-`` only."""
    s = re.sub(r"[^a-z0-9._]+", "-", label.strip().lower())
    s = re.sub(r"-{2,}", "-", s).strip("-._")
    return s


@dataclass
class PresetRun:
    label: str
    overrides: dict[str, Any] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return slugify(self.label)


@dataclass
class Preset:
    name: str
    title: str
    description: str
    base: dict[str, Any]
    runs: list[PresetRun]
    # {"zh": {"title": ..., "description": ..., "labels": {run label: shown label}}}: what a
    # studio in that language shows (run folders keep the labels' own slugs)
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<preset>"  # the file it came from (for messages)

    # ------------------------------------------------------------- languages
    def title_in(self, language: str) -> str:
        return str(self.translations.get(language, {}).get("title") or self.title)

    def description_in(self, language: str) -> str:
        return str(self.translations.get(language, {}).get("description") or self.description)

    def label_in(self, label: str, language: str) -> str:
        return str(self.translations.get(language, {}).get("labels", {}).get(label) or label)

    # ----------------------------------------------------------------- configs
    def config_dicts(self) -> list[tuple[str, dict[str, Any]]]:
        """(label, base updated with the run's overrides) for every run."""
        return [(r.label, {**self.base, **r.overrides}) for r in self.runs]

    def configs(self, output_root: str | Path | None = None) -> list[tuple[str, TrainConfig]]:
        """(label, validated TrainConfig) for every run; with ``output_root`` each run's
        ``output_dir`` is ``output_root/<name>/<slug of label>``."""
        out = []
        for run, (label, d) in zip(self.runs, self.config_dicts()):
            cfg = _make_config(d, self.source, label)
            if output_root is not None:
                cfg = dataclasses.replace(cfg, output_dir=str(self.run_dir(output_root, run.label)))
            out.append((label, cfg))
        return out

    def folder(self, output_root: str | Path) -> Path:
        """``output_root/<name>``: where :func:`run_preset` writes."""
        return Path(output_root) / self.name

    def run_dir(self, output_root: str | Path, label: str) -> Path:
        for r in self.runs:
            if r.label == label:
                return self.folder(output_root) / r.slug
        raise ConfigError("{source}: no run labelled {label!r}", source=self.source, label=label)

    # ------------------------------------------------------------- editing
    def with_base(self, **fields: Any) -> Preset:
        """A validated copy whose ``base`` is updated with ``fields`` (the runs' overrides
        still win): e.g. ``with_base(model_name_or_path=..., train_file=...)``."""
        p = dataclasses.replace(self, base={**self.base, **fields}, runs=[dataclasses.replace(r) for r in self.runs])
        p.validate()
        return p

    def with_runs(self, runs: list[tuple[str, dict[str, Any]]] | list[PresetRun]) -> Preset:
        """A validated copy with another runs list (e.g. the studio's edited temperatures)."""
        new = [r if isinstance(r, PresetRun) else PresetRun(str(r[0]), dict(r[1])) for r in runs]
        p = dataclasses.replace(self, runs=new)
        p.validate()
        return p

    def validate(self) -> Preset:
        """Check names, labels and every run's config; raise :class:`ConfigError` naming
        the file and the run label."""
        src = self.source
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ConfigError("{source}: 'name' must be a folder-safe name (letters, digits, '_', '-', '.'), "
                              "got {name!r}", source=src, name=self.name)
        for key in ("title", "description"):
            if not isinstance(getattr(self, key), str):
                raise ConfigError("{source}: '{key}' must be a string", source=src, key=key)
        if not isinstance(self.base, dict):
            raise ConfigError("{source}: 'base' must be an object of TrainConfig fields", source=src)
        _check_fields(self.base, src, "base")
        if not self.runs:
            raise ConfigError("{source}: 'runs' is empty; a preset needs at least one run", source=src)
        slugs: dict[str, str] = {}
        for i, r in enumerate(self.runs):
            if not isinstance(r.label, str) or not r.label.strip():
                raise ConfigError("{source}: run {n} has no label", source=src, n=i + 1)
            where = _run_where(src, r.label)
            if not isinstance(r.overrides, dict):
                raise ConfigError("{where}: 'overrides' must be an object of TrainConfig fields", where=where)
            slug = r.slug
            if not slug:
                raise ConfigError("{where}: the label needs a letter or digit (it names the run folder)", where=where)
            if slug in slugs:
                raise ConfigError("{where}: its folder name '{slug}' clashes with run '{other}'", where=where,
                                  slug=slug, other=slugs[slug])
            slugs[slug] = r.label
            _check_fields(r.overrides, src, _run(r.label))
        self._check_translations()
        self.configs()  # every merged config validates
        return self

    def _check_translations(self) -> None:
        src = self.source
        if not isinstance(self.translations, dict):
            raise ConfigError("{source}: 'translations' must be an object: language code -> "
                              "{{\"title\", \"description\", \"labels\"}}", source=src)
        labels = {r.label for r in self.runs}
        for lang, t in self.translations.items():
            where = Msg("{source}, translations '{language}'", source=src, language=lang)
            if not isinstance(t, dict):
                raise ConfigError("{where}: must be an object with {keys}", where=where, keys=", ".join(TRANSLATION_KEYS))
            bad = sorted(set(t) - set(TRANSLATION_KEYS))
            if bad:
                raise ConfigError("{where}: unknown key(s) {keys} (allowed: {allowed})", where=where,
                                  keys=", ".join(bad), allowed=", ".join(TRANSLATION_KEYS))
            for key in ("title", "description"):
                if key in t and not isinstance(t[key], str):
                    raise ConfigError("{source}: '{key}' must be a string", source=where, key=key)
            shown = t.get("labels", {})
            if not isinstance(shown, dict) or not all(isinstance(v, str) for v in shown.values()):
                raise ConfigError("{where}: 'labels' must map run labels to strings", where=where)
            unknown = sorted(set(shown) - labels)
            if unknown:
                raise ConfigError("{where}: 'labels' names no run: {labels}", where=where, labels=", ".join(unknown))

    # ------------------------------------------------------------- saving
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "base": dict(self.base),
            "runs": [{"label": r.label, "overrides": dict(r.overrides)} for r in self.runs],
            **({"translations": dict(self.translations)} if self.translations else {}),
        }

    def save(self, path: str | Path) -> Path:
        """Write the preset as an editable JSON file."""
        path = Path(path)
        try:
            path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as e:
            raise ConfigError("{path}: cannot be written ({error})", path=str(path), error=e.strerror) from None
        return path

    @classmethod
    def from_dict(cls, d: Any, source: str = "<preset>") -> Preset:
        if not isinstance(d, dict):
            raise ConfigError("{source}: a preset is a JSON object with {keys}", source=source,
                              keys=", ".join(PRESET_KEYS))
        unknown = sorted(set(d) - set(PRESET_KEYS))
        if unknown:
            raise ConfigError("{source}: unknown key(s) {keys} (a preset has {allowed})", source=source,
                              keys=", ".join(unknown), allowed=", ".join(PRESET_KEYS))
        for key in ("name", "runs"):
            if key not in d:
                raise ConfigError("{source}: missing '{key}'", source=source, key=key)
        raw_runs = d["runs"]
        if not isinstance(raw_runs, list):
            raise ConfigError("{source}: 'runs' must be a list of {{\"label\", \"overrides\"}} objects", source=source)
        runs = []
        for i, r in enumerate(raw_runs):
            if not isinstance(r, dict):
                raise ConfigError("{source}: run {n} must be an object with 'label' and 'overrides'", source=source,
                                  n=i + 1)
            label = r.get("label")
            where = _run(label) if isinstance(label, str) and label.strip() else Msg("run {n}", n=i + 1)
            bad = sorted(set(r) - set(RUN_KEYS))
            if bad:
                raise ConfigError("{source}, {where}: unknown key(s) {keys} (a run has 'label' and 'overrides'; put "
                                  "TrainConfig fields inside 'overrides')", source=source, where=where,
                                  keys=", ".join(bad))
            if not isinstance(label, str) or not label.strip():
                raise ConfigError("{source}: run {n} has no 'label'", source=source, n=i + 1)
            runs.append(PresetRun(label, r.get("overrides", {}) if r.get("overrides") is not None else {}))
        p = cls(name=d["name"], title=d.get("title", d["name"]), description=d.get("description", ""),
                base=d.get("base", {}) if d.get("base") is not None else {}, runs=runs,
                translations=d.get("translations", {}) if d.get("translations") is not None else {}, source=source)
        return p.validate()


# ------------------------------------------------------------------ field checks
def _type_ok(value: Any, annotation: str) -> bool:
    """A light check of a JSON value against a TrainConfig field's annotation string."""
    for part in (p.strip() for p in str(annotation).split("|")):
        if part == "None" and value is None:
            return True
        if part == "bool" and isinstance(value, bool):
            return True
        if part == "int" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if part == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if part == "str" and isinstance(value, str):
            return True
        if part.startswith("list") and isinstance(value, list):
            return True
        if part.startswith("dict") and isinstance(value, dict):
            return True
    return False


_FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def _run(label: str) -> Msg:
    """"run 'label'" in a message."""
    return Msg("run '{label}'", label=label)


def _run_where(source: str, label: str) -> Msg:
    """"<preset file>, run 'label'": where a message points."""
    return Msg("{source}, run '{label}'", source=source, label=label)


def _check_known(d: dict[str, Any], source: str, where: str | Msg) -> None:
    """ConfigError unless every key of ``d`` is a TrainConfig field with a value of its type."""
    unknown = sorted(set(d) - set(_FIELDS))
    if unknown:
        raise ConfigError("{source}, {where}: unknown TrainConfig field(s) {fields}", source=source, where=where,
                          fields=", ".join(unknown))
    for k, v in d.items():
        ann = _FIELDS[k].type
        if not _type_ok(v, ann):
            raise ConfigError("{source}, {where}: field '{field}' must be {type}, got {value!r}", source=source,
                              where=where, field=k, type=str(ann), value=v)


def _check_fields(d: dict[str, Any], source: str, where: str | Msg) -> None:
    """What a preset file may set in ``where`` (its base, a run's overrides, a scale)."""
    _check_known(d, source, where)
    reserved = sorted(set(d) & set(RESERVED))
    if reserved:
        raise ConfigError("{source}, {where}: {fields} cannot be set in a preset (each run gets its own folder under "
                          "the output root and starts fresh)", source=source, where=where, fields=", ".join(reserved))


def _make_config(d: dict[str, Any], source: str, label: str) -> TrainConfig:
    _check_known(d, source, _run(label))  # base and overrides were checked; the merge again for direct callers
    where = _run_where(source, label)
    try:
        return TrainConfig.from_dict(d, source=where).validate()
    except ConfigError as e:
        if str(e).startswith(str(where)):
            raise ConfigError(e.msg) from None
        raise ConfigError("{where}: {message}", where=where, message=e.msg) from None
    except (TypeError, ValueError) as e:
        raise ConfigError("{where}: {message}", where=where, message=str(e)) from None


# ---------------------------------------------------------------- load and list
def load_preset(name_or_path: str | Path) -> Preset:
    """A bundled preset by name (``"temperature_tour"``) or any preset file by path."""
    p = Path(name_or_path).expanduser()
    looks_like_path = isinstance(name_or_path, Path) or p.suffix == ".json" or len(p.parts) > 1
    if not looks_like_path:
        bundled = presets_dir() / f"{name_or_path}.json"
        if bundled.is_file():
            p = bundled
        elif p.is_file():
            pass
        else:
            names = ", ".join(sorted(q.stem for q in presets_dir().glob("*.json")))
            raise ConfigError("no preset named {name!r} (bundled: {names}; or give a preset file's path)",
                              name=str(name_or_path), names=names)
    if p.is_dir() and (p / PRESET_FILE).is_file():
        p = p / PRESET_FILE  # a preset's output folder
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("{path}: no such preset file", path=str(p)) from None
    except IsADirectoryError:
        raise ConfigError("{path}: is a folder, not a preset file", path=str(p)) from None
    except UnicodeDecodeError as e:
        raise ConfigError("{path}: not UTF-8 text ({error})", path=str(p), error=e.reason) from None
    except OSError as e:
        raise ConfigError("{path}: cannot be read ({error})", path=str(p), error=e.strerror) from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError("{path}: not valid JSON (line {line}: {error})", path=str(p), line=e.lineno,
                          error=e.msg) from None
    if isinstance(d, dict) and "state" in d:  # an output folder's preset.json: drop the runner's bookkeeping
        d = {k: v for k, v in d.items() if k in PRESET_KEYS}
        d["runs"] = [{k: v for k, v in r.items() if k in RUN_KEYS} for r in d.get("runs", []) if isinstance(r, dict)]
    return Preset.from_dict(d, source=str(p))


def list_presets() -> list[Preset]:
    """The bundled presets, sorted by name."""
    return sorted((load_preset(p) for p in presets_dir().glob("*.json")), key=lambda q: q.name)


# ------------------------------------------------------------------------ running
def _scaled(cfg: TrainConfig, scale: float | dict[str, Any] | None, source: str, label: str) -> TrainConfig:
    """``scale``: a number multiplies max_steps (at least 1 step); a dict of TrainConfig
    fields overrides every run last (e.g. {"max_steps": 2, "probe_size": 16})."""
    if scale is None:
        return cfg
    if isinstance(scale, dict):
        _check_fields(scale, source, "scale")
        d = {**cfg.to_dict(), **scale}
        d["output_dir"] = cfg.output_dir
        return _make_config(d, source, label)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not scale > 0:
        raise ConfigError("{source}: scale must be a number > 0 or a dict of TrainConfig fields, got {scale!r}",
                          source=source, scale=scale)
    if cfg.max_steps <= 0:
        return dataclasses.replace(cfg, num_train_epochs=cfg.num_train_epochs * float(scale))
    return dataclasses.replace(cfg, max_steps=max(1, int(round(cfg.max_steps * float(scale)))))


def _write_json_atomic(path: Path, obj: Any) -> None:
    from .runs import _atomic_write_text

    _atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def run_preset(
    preset: Preset,
    output_root: str | Path,
    control: Any = None,
    on_snapshot: Callable[[str, Snapshot], None] | None = None,
    scale: float | dict[str, Any] | None = None,
) -> Generator[tuple[str, Snapshot], dict | None, list[tuple[str, Any]]]:
    """Train the preset's runs one after another, yielding ``(label, snapshot)``.

    - ``control``: a :class:`~simcse_core.control.TrainControl` shared by all runs; its
      stop ends the current run (it checkpoints) and skips the rest.
    - ``on_snapshot(label, snap)``: called for every snapshot before it is yielded.
    - ``scale``: see :func:`_scaled` (a factor on max_steps, or field overrides).
    - ``send(dict)`` at a yield is passed on to the current run (live temperature...).

    Writes ``output_root/<name>/preset.json`` first and updates each run's ``state``
    (``pending`` -> ``running`` -> ``done`` | ``stopped`` | ``failed``). Returns
    ``[(label, TrainResult), ...]`` for the runs that ran. Bad configs raise
    :class:`ConfigError` before anything is trained or written.
    """
    from .control import TrainControl
    from .trainer import train

    control = control or TrainControl()
    configs = [(label, _scaled(cfg, scale, preset.source, label)) for label, cfg in preset.configs(output_root)]
    folder = preset.folder(output_root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError("output folder {folder}: cannot be created ({error})", folder=str(folder),
                          error=e.strerror) from None
    manifest = preset.to_dict()
    manifest["source"] = preset.source
    manifest["state"] = "running"
    for entry, run, (_, cfg) in zip(manifest["runs"], preset.runs, configs):
        entry["dir"] = run.slug  # relative to this file's folder
        entry["state"] = "pending"
        entry["config"] = cfg.to_dict()
    manifest_path = folder / PRESET_FILE

    def save() -> None:
        _write_json_atomic(manifest_path, manifest)

    save()
    results: list[tuple[str, Any]] = []
    try:
        for i, (label, cfg) in enumerate(configs):
            if control.stop_requested:
                break
            entry = manifest["runs"][i]
            entry["state"] = "running"
            save()
            gen = train(cfg, control)
            last: Snapshot | None = None
            try:
                snap = next(gen)
                while True:
                    last = snap
                    if on_snapshot is not None:
                        on_snapshot(label, snap)
                    changes = yield (label, snap)
                    snap = gen.send(changes)
            except StopIteration as stop:
                results.append((label, stop.value))
            except GeneratorExit:  # the caller closed us mid-run: a stop, not a failure
                entry["state"] = "stopped"
                gen.close()
                raise
            except BaseException:
                entry["state"] = "failed"
                gen.close()
                raise
            entry["state"] = "stopped" if (last is not None and last.stopped) or control.stop_requested else "done"
            save()
            if entry["state"] == "stopped":
                break
    finally:
        for r in manifest["runs"]:
            if r["state"] == "running":  # the caller closed the generator mid-run
                r["state"] = "stopped"
        states = [r["state"] for r in manifest["runs"]]
        manifest["state"] = ("failed" if "failed" in states else "done" if all(s == "done" for s in states)
                             else "stopped")
        try:
            save()
        except OSError:
            pass
    return results


def read_preset_folder(folder: str | Path) -> tuple[Preset, list[tuple[str, Path, str]]]:
    """Open what :func:`run_preset` wrote: the preset and ``(label, run folder, state)``
    for each of its runs (folders resolved against ``folder``). Accepts the folder or
    its ``preset.json``."""
    folder = Path(folder)
    path = folder if folder.suffix == ".json" else folder / PRESET_FILE
    preset = load_preset(path)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:  # load_preset read it a moment ago
        raise ConfigError("{path}: cannot be read ({error})", path=str(path), error=str(e)) from None
    runs = []
    for r, pr in zip(d.get("runs", []), preset.runs):
        runs.append((pr.label, path.parent / str(r.get("dir", pr.slug)), str(r.get("state", "unknown"))))
    return preset, runs


# ------------------------------------------------------------------------ first run
FIRST_RUN = "first_run"  # the bundled preset the studio's first Train uses


def first_run_config(output_dir: str | Path | None = None) -> TrainConfig:
    """The first-run recipe (``resources/presets/first_run.json``, its one run) as a
    validated :class:`TrainConfig`, writing to ``output_dir`` (None: nothing written)."""
    _, cfg = load_preset(FIRST_RUN).configs()[0]
    return dataclasses.replace(cfg, output_dir=None if output_dir is None else str(output_dir)).validate()
