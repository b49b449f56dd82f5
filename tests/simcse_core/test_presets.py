"""Presets: the bundled files validate, configs() gives the documented runs, bad files
name the file and the run, and a preset runs end to end on the tiny model."""

from __future__ import annotations

import json

import pytest

from simcse_core import TrainControl
from simcse_core.errors import ConfigError
from simcse_core.presets import (Preset, list_presets, load_preset, presets_dir, read_preset_folder, run_preset,
                                 slugify)
from simcse_core.runs import RunReader

BUNDLED = ("temperature_tour", "dropout_augmentation", "from_scratch")
# keeps every run to 2 steps on the tiny model
TINY = {"max_steps": 2, "probe_size": 16, "align_probe_size": 8, "per_device_train_batch_size": 8,
        "snapshot_every": 1}


def test_every_bundled_preset_loads_and_validates(tmp_path):
    presets = list_presets()
    assert {p.name for p in presets} >= set(BUNDLED)
    for p in presets:
        assert p.title and len(p.description) > 200, p.name
        assert p.name == (presets_dir() / f"{p.name}.json").stem
        configs = p.configs(tmp_path)
        assert len(configs) == len(p.runs) >= 1
        dirs = [c.output_dir for _, c in configs]
        assert len(set(dirs)) == len(dirs), "every run needs its own folder"
        for (label, cfg), run in zip(configs, p.runs):
            assert cfg.output_dir == str(tmp_path / p.name / run.slug)
            # a short run on a laptop CPU; the probe may cover the whole demo corpus (1,624
            # sentences) so paraphrase retrieval sees every group (first_run)
            assert 0 < cfg.max_steps <= 150 and cfg.snapshot_every <= 10 and cfg.probe_size <= 2000
            assert cfg.train_file is None  # the demo corpus
        # the file is the user's template: load(save(p)) is the same preset
        again = load_preset(p.save(tmp_path / f"{p.name}.json"))
        assert again.to_dict() == p.to_dict()


def test_documented_overrides():
    tour = dict(load_preset("temperature_tour").configs())
    assert [c.temp for c in tour.values()] == [1.0, 0.1, 0.05, 0.01]
    assert len({c.model_name_or_path for c in tour.values()}) == 1 and len({c.seed for c in tour.values()}) == 1

    drop = load_preset("dropout_augmentation").configs()
    assert [c.dropout for _, c in drop] == [0.0, 0.1, 0.3, 0.1]
    same = [label for label, c in drop if c.same_dropout_mask]
    assert len(same) == 1 and dict(drop)[same[0]].dropout == 0.1

    (label, scratch), = load_preset("from_scratch").configs()
    assert scratch.model_name_or_path == "random:default"
    assert scratch.pooler_type == "cls" and scratch.mlp_only_train and scratch.temp == 0.05


def test_slugs():
    assert slugify("t = 0.05") == "t-0.05"
    assert slugify("Same mask (dropout 0.1)") == "same-mask-dropout-0.1"
    assert slugify("../..") == ""


def _write(tmp_path, d, name="bad.json"):
    p = tmp_path / name
    p.write_text(json.dumps(d), encoding="utf-8")
    return p


@pytest.mark.parametrize("override, words", [
    ({"tempp": 0.1}, ["unknown", "tempp"]),
    ({"temp": 0.0}, ["temp", "> 0"]),
    ({"temp": -1}, ["temp"]),
    ({"temp": "hot"}, ["temp", "float"]),
    ({"dropout": 1.5}, ["dropout"]),
    ({"output_dir": "x"}, ["output_dir"]),
])
def test_bad_run_names_file_and_label(tmp_path, override, words):
    d = load_preset("temperature_tour").to_dict()
    d["runs"][1]["overrides"].update(override)
    p = _write(tmp_path, d)
    with pytest.raises(ConfigError) as e:
        load_preset(p)
    msg = str(e.value)
    assert str(p) in msg and "t = 0.1" in msg, msg
    for w in words:
        assert w in msg, msg


def test_bad_preset_structure(tmp_path):
    good = load_preset("from_scratch").to_dict()
    cases = [
        ({**good, "base": {**good["base"], "batch": 3}}, ["base", "batch"]),
        ({**good, "runs": []}, ["runs"]),
        ({**good, "runs": [{"label": "a", "overides": {}}]}, ["run 'a'", "overides"]),
        ({**good, "runs": [{"label": "a b", "overrides": {}}, {"label": "A-B", "overrides": {}}]}, ["A-B", "clashes"]),
        ({**good, "name": "../x"}, ["name"]),
        ({**good, "extra": 1}, ["extra"]),
        ([1, 2], ["JSON object"]),
    ]
    for d, words in cases:
        p = _write(tmp_path, d)
        with pytest.raises(ConfigError) as e:
            load_preset(p)
        assert str(p) in str(e.value) and all(w in str(e.value) for w in words), str(e.value)
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.json: not valid JSON"):
        load_preset(tmp_path / "broken.json")
    with pytest.raises(ConfigError, match="no preset named 'nope'.*temperature_tour"):
        load_preset("nope")
    with pytest.raises(ConfigError, match="missing.json: no such preset file"):
        load_preset(tmp_path / "missing.json")


def test_with_base_and_with_runs_validate(tiny_model):
    p = load_preset("temperature_tour").with_base(model_name_or_path=tiny_model)
    assert all(c.model_name_or_path == tiny_model for _, c in p.configs())
    q = p.with_runs([("t = 0.2", {"temp": 0.2}), ("t = 0.5", {"temp": 0.5})])
    assert [c.temp for _, c in q.configs()] == [0.2, 0.5]
    with pytest.raises(ConfigError, match="run 't = 0'.*temp"):
        p.with_runs([("t = 0", {"temp": 0})])
    with pytest.raises(ConfigError, match="base.*unknown TrainConfig field"):
        p.with_base(lr=1)


def _tiny(preset: Preset, tiny_model: str, small_corpus: str) -> Preset:
    model = preset.base["model_name_or_path"]
    spec = ("random:" + tiny_model) if str(model).startswith("random:") else tiny_model
    return preset.with_base(model_name_or_path=spec, train_file=small_corpus)


@pytest.mark.parametrize("name", BUNDLED)
def test_preset_runs_end_to_end_on_tiny_model(name, tiny_model, small_corpus, tmp_path):
    preset = _tiny(load_preset(name), tiny_model, small_corpus)
    seen: list[tuple[str, int]] = []
    out = []
    gen = run_preset(preset, tmp_path, on_snapshot=lambda label, s: seen.append((label, s.step)), scale=TINY)
    try:
        while True:
            out.append(next(gen))
    except StopIteration as stop:
        results = stop.value
    labels = [r.label for r in preset.runs]
    assert [label for label, _ in results] == labels
    assert [(label, s.step) for label, s in out] == seen == [(label, k) for label in labels for k in (0, 1, 2)]
    assert all(s.done for label, s in out if s.step == 2)

    manifest = json.loads((tmp_path / name / "preset.json").read_text(encoding="utf-8"))
    assert manifest["name"] == name and manifest["state"] == "done"
    assert [r["label"] for r in manifest["runs"]] == labels
    assert all(r["state"] == "done" for r in manifest["runs"])
    opened, runs = read_preset_folder(tmp_path / name)
    assert opened.to_dict()["runs"] == preset.to_dict()["runs"]
    for (label, cfg), (label2, run_dir, state) in zip(preset.configs(), runs):
        assert label == label2 and state == "done" and run_dir == tmp_path / name / slugify(label)
        reader = RunReader(run_dir)
        recs = reader.records()
        assert [r["step"] for r in recs] == [0, 1, 2] and recs[-1].get("done")
        assert {r["temperature"] for r in recs} == {cfg.temp}
        written = reader.config
        assert written["temp"] == cfg.temp and written["dropout"] == cfg.dropout
        assert written["same_dropout_mask"] == cfg.same_dropout_mask and written["max_steps"] == 2
        assert (run_dir / "model" / "modules.json").is_file()


def test_stop_skips_the_remaining_runs(tiny_model, small_corpus, tmp_path):
    preset = _tiny(load_preset("temperature_tour"), tiny_model, small_corpus)
    control = TrainControl()
    gen = run_preset(preset, tmp_path, control=control, scale={**TINY, "max_steps": 4})
    got = []
    try:
        while True:
            label, snap = next(gen)
            got.append((label, snap.step, snap.stopped))
            if label == "t = 0.1" and snap.step == 1:
                control.stop()
    except StopIteration as stop:
        results = stop.value
    assert [label for label, _ in results] == ["t = 1", "t = 0.1"]
    assert got[-1][0] == "t = 0.1" and got[-1][2]
    manifest = json.loads((tmp_path / "temperature_tour" / "preset.json").read_text(encoding="utf-8"))
    assert [r["state"] for r in manifest["runs"]] == ["done", "stopped", "pending", "pending"]
    assert manifest["state"] == "stopped"
    assert not (tmp_path / "temperature_tour" / "t-0.05").exists()

    # closing the generator mid-run (the studio dropping it) is a stop too
    gen = run_preset(preset, tmp_path / "closed", scale=TINY)
    assert next(gen)[0] == "t = 1"
    gen.close()
    manifest = json.loads((tmp_path / "closed" / "temperature_tour" / "preset.json").read_text(encoding="utf-8"))
    assert [r["state"] for r in manifest["runs"]] == ["stopped", "pending", "pending", "pending"]
    assert manifest["state"] == "stopped"


def test_scale_factor_and_bad_scale(tmp_path):
    p = load_preset("temperature_tour")
    gen = run_preset(p, tmp_path, scale=0)
    with pytest.raises(ConfigError, match="scale"):
        next(gen)
    gen = run_preset(p, tmp_path, scale={"max_step": 2})
    with pytest.raises(ConfigError, match="scale.*max_step"):
        next(gen)


def test_bundled_presets_have_chinese_titles_descriptions_and_labels():
    """The studio shows a preset's title, description and run labels in its language:
    every bundled preset carries them in Chinese (run folders keep the English slugs)."""
    from simcse_core.presets import list_presets

    for p in list_presets():
        zh = p.translations.get("zh", {})
        assert zh.get("title") and zh["title"] != p.title, p.name
        assert zh.get("description") and zh["description"] != p.description, p.name
        assert p.title_in("zh") == zh["title"] and p.title_in("en") == p.title
        assert p.description_in("fr") == p.description  # no translation: the preset's own text
        for r in p.runs:
            assert p.label_in(r.label, "zh")  # translated or the label itself
            assert r.slug == slugify(r.label)  # folders do not depend on the language
    scratch = next(p for p in list_presets() if p.name == "from_scratch")
    assert scratch.label_in("from scratch", "zh") == "从零开始"


@pytest.mark.parametrize("bad, message", [
    ({"zh": "标题"}, "must be an object"),
    ({"zh": {"name": "x"}}, "unknown key(s) name"),
    ({"zh": {"title": 3}}, "'title' must be a string"),
    ({"zh": {"labels": {"no such run": "x"}}}, "names no run: no such run"),
])
def test_bad_translations_are_refused_naming_the_field(bad, message):
    from simcse_core.presets import Preset

    d = {"name": "p", "title": "P", "runs": [{"label": "a", "overrides": {}}], "translations": bad}
    with pytest.raises(ConfigError) as e:
        Preset.from_dict(d, source="p.json")
    assert "p.json, translations 'zh'" in str(e.value) and message in str(e.value)
