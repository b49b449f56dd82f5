"""Exports: metrics CSV, TensorBoard projector files, npy + metadata, the model folder."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from simcse_core import TrainConfig
from simcse_core.errors import DataError, SimCSEError
from simcse_core.export import export_metrics_csv, export_model, export_npy, export_projector, probe_embeddings
from simcse_core.runs import RunError
from simcse_core.trainer import train

P = 16


@pytest.fixture(scope="module")
def run(tiny_model, small_corpus, tmp_path_factory):
    """A 4-step run on the tiny model: (run folder, snapshots as yielded)."""
    root = tmp_path_factory.mktemp("export") / "run"
    cfg = TrainConfig(model_name_or_path=tiny_model, train_file=small_corpus, output_dir=str(root),
                      per_device_train_batch_size=8, max_steps=4, snapshot_every=2, probe_size=P,
                      align_probe_size=8, checkpoint_every=2, seed=3)
    gen = train(cfg)
    snaps = [next(gen)]
    try:
        while True:  # a live temperature change: an "events" list in metrics.jsonl
            snaps.append(gen.send({"temperature": 0.1}) if len(snaps) == 2 else next(gen))
    except StopIteration:
        pass
    return root, snaps


def test_metrics_csv_round_trip(run, tmp_path):
    root, snaps = run
    out = export_metrics_csv(root, tmp_path / "sub" / "metrics.csv")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    records = [json.loads(ln) for ln in (root / "metrics.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert header[0] == "step" and header[1:] == sorted(header[1:])
    assert set(header) == set().union(*records)
    assert "events" in header and any(isinstance(r.get("events"), list) for r in records)
    assert len(body) == len(records) == len(snaps)
    for rec, row in zip(records, body):
        cells = dict(zip(header, row))
        for k in header:
            v = rec.get(k)
            if v is None:
                assert cells[k] == "", k
            elif isinstance(v, bool):
                assert cells[k] == ("true" if v else "false")
            elif isinstance(v, (int, float)):
                assert float(cells[k]) == v, k  # exact: repr round-trips
            elif isinstance(v, str):
                assert cells[k] == v
            else:
                assert json.loads(cells[k]) == v
    assert not list(tmp_path.glob("sub/.*.tmp")), "temp files left behind"


def test_metrics_csv_events_and_nan(tmp_path):
    run_dir = tmp_path / "r"
    run_dir.mkdir()
    (run_dir / "config.json").write_text("{}", encoding="utf-8")
    lines = [{"step": 0, "loss": 1.5, "events": [{"step": 0, "temperature": 0.1}]},
             {"step": 5, "loss": None, "sts_spearman": 80.25, "done": True}]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"step": 9, "lo',
                                           encoding="utf-8")  # a half-written last line is ignored
    out = export_metrics_csv(run_dir, tmp_path / "m.csv")
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["step", "done", "events", "loss", "sts_spearman"]
    assert json.loads(rows[0]["events"]) == lines[0]["events"]
    assert rows[1]["loss"] == "" and rows[1]["done"] == "true" and float(rows[1]["sts_spearman"]) == 80.25
    assert len(rows) == 2


def test_projector_files(run, tmp_path):
    root, snaps = run
    last = snaps[-1]
    paths = export_projector(root, last.step, tmp_path / "proj")
    tensors = np.loadtxt(paths["tensors"], delimiter="\t", dtype=np.float32)
    assert tensors.shape == last.probe_embeddings.shape == (P, 32)
    # the run folder keeps float16: equal to float16 precision
    np.testing.assert_allclose(tensors, last.probe_embeddings, atol=2e-3, rtol=2e-3)
    np.testing.assert_array_equal(tensors, last.probe_embeddings.astype(np.float16).astype(np.float32))
    meta = paths["metadata"].read_text(encoding="utf-8").split("\n")
    assert meta[-1] == "" and len(meta[:-1]) == P + 1
    assert meta[0] == "text\ttopic\tgroup"
    probe = json.loads((root / "probe.json").read_text(encoding="utf-8"))
    for i, line in enumerate(meta[1:-1]):
        text, topic, group = line.split("\t")
        assert text == probe["texts"][i] and topic == probe["columns"]["topic"][i]
    pb = paths["config"].read_text(encoding="utf-8")
    assert pb.startswith("embeddings {") and pb.rstrip().endswith("}")
    assert 'tensor_path: "tensors.tsv"' in pb and 'metadata_path: "metadata.tsv"' in pb
    assert f'tensor_name: "run step {last.step}"' in pb
    # step None = the last snapshot; one label column
    paths = export_projector(root, None, tmp_path / "proj2", label_columns=["topic"])
    assert paths["metadata"].read_text(encoding="utf-8").splitlines()[0] == "text\ttopic"


def test_projector_escapes_text_and_single_column(run, tmp_path):
    root, _ = run
    copy = tmp_path / "run"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("checkpoints", "model"))
    probe = json.loads((copy / "probe.json").read_text(encoding="utf-8"))
    probe["texts"][0] = "a\tb\nc\r\nd"
    (copy / "probe.json").write_text(json.dumps(probe), encoding="utf-8")
    paths = export_projector(copy, 0, tmp_path / "p", label_columns=[])
    meta = paths["metadata"].read_text(encoding="utf-8").split("\n")[:-1]
    assert len(meta) == P and meta[0] == "a b c d"  # one column: no header
    assert all("\t" not in m for m in meta)


def test_npy_and_metadata(run, tmp_path):
    root, snaps = run
    first = snaps[0]
    paths = export_npy(root, 0, tmp_path / "npy")
    emb = np.load(paths["embeddings"])
    assert emb.dtype == np.float32 and emb.shape == (P, 32)
    np.testing.assert_array_equal(emb, first.probe_embeddings.astype(np.float16).astype(np.float32))
    with open(paths["metadata"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == P and list(rows[0]) == ["id", "text", "topic", "group"]
    assert [int(r["id"]) for r in rows] == [int(i) for i in first.probe_ids]
    assert [r["text"] for r in rows] == first.probe_texts
    step, emb2, _ = probe_embeddings(root)
    assert step == snaps[-1].step and emb2.shape == (P, 32)


def test_model_export_loads_with_sentence_transformers(run, tmp_path):
    from sentence_transformers import SentenceTransformer

    root, snaps = run
    dest = export_model(root, tmp_path / "exported")
    assert (dest / "modules.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temp folders left behind"
    st = SentenceTransformer(str(dest), device="cpu", trust_remote_code=False)
    texts = snaps[0].probe_texts[:6]
    emb = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert emb.shape == (6, 32)
    # it is the trained model: the last snapshot's probe embeddings (eval mode, float16)
    np.testing.assert_allclose(emb, snaps[-1].probe_embeddings[:6], atol=5e-3)

    with pytest.raises(DataError, match="not empty.*overwrite"):
        export_model(root, dest)
    (dest / "junk.txt").write_text("x", encoding="utf-8")
    export_model(root, dest, overwrite=True)
    assert not (dest / "junk.txt").exists() and (dest / "modules.json").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (export_model(root, empty) / "modules.json").is_file()


def test_bad_inputs_name_the_file_or_step(run, tmp_path):
    root, _ = run
    with pytest.raises(RunError, match="nowhere: no such folder"):
        export_metrics_csv(tmp_path / "nowhere", tmp_path / "m.csv")
    (tmp_path / "notrun").mkdir()
    with pytest.raises(RunError, match="not a run folder"):
        export_npy(tmp_path / "notrun", 0, tmp_path / "o")
    with pytest.raises(RunError, match="no snapshot at step 3 .*0, 2, 4"):
        export_projector(root, 3, tmp_path / "o")
    with pytest.raises(RunError, match="no label column.*colour"):
        export_projector(root, 0, tmp_path / "o", label_columns=["colour"])
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(DataError, match="not a folder"):
        export_model(root, f)
    with pytest.raises(DataError, match="model folder or inside it"):
        export_model(root, root / "model" / "x")

    broken = tmp_path / "broken"
    shutil.copytree(root, broken, ignore=shutil.ignore_patterns("checkpoints", "model"))
    (broken / "snapshots" / "step_0000002.npz").write_bytes(b"not a zip")
    with pytest.raises(RunError, match="step_0000002.npz: step 2 cannot be read"):
        export_npy(broken, 2, tmp_path / "o")
    with pytest.raises(RunError, match="no model yet"):
        export_model(broken, tmp_path / "m")
    (broken / "metrics.jsonl").write_text('{"step": 0}\nnot json\n', encoding="utf-8")
    with pytest.raises(RunError, match="metrics.jsonl: line 2"):
        export_metrics_csv(broken, tmp_path / "m.csv")
    (broken / "probe.json").unlink()
    with pytest.raises(RunError, match="probe.json: no such file"):
        export_npy(broken, 0, tmp_path / "o")
    for e in (RunError, DataError):
        assert issubclass(e, SimCSEError)
