"""Preparing a corpus to explore (simcse_core.explore.prepare): stages with progress, the
map and index saved in the cache and reused, a stop that keeps what was encoded and a
resume, and the sampled UMAP (fit on a sample, the rest placed by the fitted model)."""

from __future__ import annotations

import numpy as np
import pytest

from simcse_core.errors import SimCSEError
from simcse_core.explore import layout_2d, prepare, run_prepare


def test_prepare_goes_through_its_stages_and_reuses_the_cache(tiny_model, topic_corpus, monkeypatch):
    from simcse_core import embedding_cache as ec

    monkeypatch.setattr(ec, "CHUNK", 64)
    steps = []
    data = run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg", max_seq_length=16, batch_size=16),
                       steps.append)
    assert data is not None and len(data) == 200 and data.columns["topic"][0] == "t0"
    assert data.X.shape == (200, 32) and data.X.dtype == np.float16
    assert data.layout.shape == (200, 2) and np.isfinite(data.layout).all()
    stages = [s.stage for s in steps]
    assert stages.index("read") < stages.index("encode") < stages.index("layout") < stages.index("index")
    enc = [s for s in steps if s.stage == "encode"]
    assert [s.done for s in enc] == [0, 64, 128, 192, 200] and enc[-1].total == 200
    assert data.index.exact and (data.folder / "layout.f32.npy").is_file()
    ids, _ = data.index.search(data.X[:1].astype(np.float32), 3)
    assert ids[0, 0] == 0
    again = []
    data2 = run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg", max_seq_length=16), again.append)
    notes = {s.stage: s.note for s in again if s.note}
    assert notes["encode"] == "cached" and notes["layout"] == "cached" and notes["index"] == "cached"
    np.testing.assert_array_equal(data2.layout, data.layout)


def test_a_stop_keeps_the_encoded_rows_and_the_next_prepare_resumes(tiny_model, topic_corpus, monkeypatch):
    from simcse_core import embedding_cache as ec

    monkeypatch.setattr(ec, "CHUNK", 50)
    steps = []

    def after_two_chunks() -> bool:  # as Cancel does, once two chunks are in
        return sum(1 for s in steps if s.stage == "encode" and s.done > 0) >= 2

    assert run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg", should_stop=after_two_chunks),
                       steps.append) is None
    assert max(s.done for s in steps if s.stage == "encode") == 100
    again = []
    data = run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg"), again.append)
    enc = [s for s in again if s.stage == "encode"]
    assert enc[0].done == 100 and enc[0].note == "resumed" and enc[-1].done == 200
    assert data is not None and np.isfinite(data.X.astype(np.float32)).all()


def test_a_start_model_is_cached_by_spec_and_seed(tiny_model, topic_corpus, tmp_path):
    """A run's start model (random:, reinit:) has no files of its own: its cache is keyed by
    the base folder, the spec and the seed, so another seed is another cache."""
    base = run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg"))
    fresh = run_prepare(prepare(topic_corpus, f"random:{tiny_model}", pooler_type="avg", model_seed=1))
    again = run_prepare(prepare(topic_corpus, f"random:{tiny_model}", pooler_type="avg", model_seed=1))
    other = run_prepare(prepare(topic_corpus, f"random:{tiny_model}", pooler_type="avg", model_seed=2))
    assert len({base.folder, fresh.folder, other.folder}) == 3 and again.folder == fresh.folder
    np.testing.assert_array_equal(np.asarray(again.X), np.asarray(fresh.X))
    assert not np.allclose(np.asarray(fresh.X, np.float32), np.asarray(other.X, np.float32))
    with pytest.raises(SimCSEError, match="nope.txt"):
        run_prepare(prepare(tmp_path / "nope.txt", tiny_model))


def test_before_and_after_measures_each_sentence_neighbourhood_change(tiny_model, topic_corpus):
    """The same model twice: every neighbourhood unchanged (overlap 1) and the maps equal
    after alignment; a fresh random model against it: overlaps far below 1, the lowest
    listed first, checked against an independent exact kNN in float64."""
    from simcse_core.explore import before_after

    same = run_prepare(before_after(topic_corpus, tiny_model, tiny_model, pooler_type="avg", k=5))
    assert same.overlap.shape == (200,) and np.allclose(same.overlap, 1.0)
    np.testing.assert_allclose(same.after_layout, same.before.layout, atol=1e-3)
    steps = []
    ba = run_prepare(before_after(topic_corpus, f"random:{tiny_model}", tiny_model, pooler_type="avg", k=5),
                     steps.append)
    assert {"before", "after"} <= {s.note.split()[0] for s in steps if s.note}
    assert [s.done for s in steps if s.stage == "compare"][-1] == 200
    assert ba.overlap.mean() < 0.9

    def knn64(X):
        U = np.asarray(X, dtype=np.float64)
        U /= np.linalg.norm(U, axis=1, keepdims=True)
        S = U @ U.T
        np.fill_diagonal(S, -np.inf)
        return np.argsort(-S, axis=1)[:, :5]

    a, b = knn64(ba.before.X), knn64(ba.after.X)
    want = np.array([len(set(x) & set(y)) / 5 for x, y in zip(a, b)])
    assert np.mean(np.abs(want - ba.overlap)) < 0.02  # float16 rows: a tie may fall either way
    worst = ba.changed_most(10)
    assert ba.overlap[np.searchsorted(ba.rows, worst)].max() <= np.sort(ba.overlap)[9] + 1e-12


@pytest.mark.slow
def test_a_sampled_layout_places_the_other_rows_near_their_neighbours():
    """Fit on 300 of 900 rows, the rest placed by the fitted model: every row placed,
    and rows of one blob end nearer each other than rows of different blobs."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 16)) * 3
    blob = np.repeat(np.arange(3), 300)
    X = (centres[blob] + rng.standard_normal((900, 16))).astype(np.float32)
    seen = []
    Y = layout_2d(X, sample=300, chunk=200, progress=lambda d, n: seen.append(d))
    assert Y.shape == (900, 2) and np.isfinite(Y).all()
    assert seen[0] == 300 and seen[-1] == 900
    means = np.array([Y[blob == b].mean(axis=0) for b in range(3)])
    within = np.mean([np.linalg.norm(Y[blob == b] - means[b], axis=1).mean() for b in range(3)])
    between = np.mean([np.linalg.norm(means[a] - means[b]) for a in range(3) for b in range(a + 1, 3)])
    assert between > 2 * within
    assert layout_2d(X, sample=300, chunk=200, should_stop=lambda: True) is None


def test_export_rows_to_csv_and_parquet(tmp_path):
    import csv

    import pyarrow.parquet as pq

    from simcse_core.errors import StorageError
    from simcse_core.explore import export_rows

    texts = ["a, with a comma", "b \"quoted\"", "c", "第四句"]
    columns = {"topic": ["x", "y", "x", "z"]}
    layout = np.array([[0, 1], [2, 3], [4, 5], [6, 7]], dtype=np.float32)
    ids = np.array([0, 1, 0, -1])
    nb = np.array([[2, 1], [0, -1], [0, 3], [1, 2]])
    cos = np.array([[0.9, 0.5], [0.8, np.nan], [0.9, 0.2], [0.3, 0.1]], dtype=np.float32)
    rows = np.array([3, 0, 1])
    assert export_rows(tmp_path / "s.csv", rows, texts, columns, layout, ids, {0: "alpha", 1: "beta"},
                       nb[rows], cos[rows]) == 3
    with open(tmp_path / "s.csv", encoding="utf-8", newline="") as f:
        got = list(csv.DictReader(f))
    assert [r["row"] for r in got] == ["3", "0", "1"] and got[1]["text"] == "a, with a comma"
    assert got[0]["text"] == "第四句" and got[0]["topic"] == "z" and got[0]["cluster"] == "-1"
    assert got[1]["cluster_label"] == "alpha" and got[2]["cluster_label"] == "beta"
    assert got[1]["x"] == "0.0" and got[1]["y"] == "1.0"
    assert got[1]["neighbours"] == "2 1" and got[2]["neighbours"] == "0" and got[2]["neighbour_cosines"] == "0.8000"
    assert export_rows(tmp_path / "s.parquet", rows, texts, columns, layout) == 3
    table = pq.read_table(tmp_path / "s.parquet").to_pydict()
    assert table["row"] == [3, 0, 1] and table["text"][2] == "b \"quoted\"" and "cluster" not in table
    with pytest.raises(SimCSEError, match="export to .csv or .parquet"):
        export_rows(tmp_path / "s.xlsx", rows, texts, columns, layout)
    with pytest.raises(StorageError, match="cannot be written"):
        export_rows(tmp_path / "no" / "dir" / "s.csv", rows, texts, columns, layout)
    assert not list(tmp_path.glob("*.tmp"))


def _blobs(n: int = 400, dim: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((5, dim)) * 4
    return (centres[rng.integers(0, 5, n)] + rng.standard_normal((n, dim))).astype(np.float32)


def test_the_map_made_in_a_child_process_is_the_map_made_here(tmp_path):
    """Same rows, sample, chunk and seed: the child's map equals the in-process one; the
    rows are read from a .npy by memory map (here a file with more rows than asked)."""
    from simcse_core.explore import iter_layout_2d
    from simcse_core.layout_process import iter_layout_2d_process
    from simcse_core.steps import drive

    X = _blobs()
    here = drive(iter_layout_2d(X[:300], sample=200, chunk=50, seed=3))
    np.save(tmp_path / "rows.npy", X.astype(np.float16).astype(np.float32))
    steps = []
    there = drive(iter_layout_2d_process(tmp_path / "rows.npy", 300, sample=200, chunk=50, seed=3),
                  steps.append)
    assert there.shape == (300, 2) and there.dtype == np.float32
    np.testing.assert_allclose(there, drive(iter_layout_2d(X[:300].astype(np.float16).astype(np.float32),
                                                           sample=200, chunk=50, seed=3)), atol=1e-4)
    assert here.shape == there.shape
    reported = [s for s in steps if s[0] > 0]
    assert reported[0] == (200, 300) and reported[-1] == (300, 300)  # the fit, then the chunks placed


def test_stopping_the_child_map_ends_the_process_at_once(tmp_path):
    import multiprocessing
    import time

    from simcse_core.layout_process import iter_layout_2d_process

    gen = iter_layout_2d_process(_blobs(3000, 32), sample=3000, chunk=1000, seed=0, poll_s=0.05)
    assert next(gen) == (0, 3000)  # a heartbeat while the child starts: the caller may stop here
    t = time.monotonic()
    gen.close()
    assert time.monotonic() - t < 10
    assert not [p for p in multiprocessing.active_children() if p.name == "simcse-umap"]


def test_a_failing_child_is_one_clear_error(tmp_path):
    from simcse_core.errors import SimCSEError
    from simcse_core.layout_process import iter_layout_2d_process
    from simcse_core.steps import drive

    (tmp_path / "rows.npy").write_text("not an array")
    with pytest.raises(SimCSEError, match="the map could not be made: .*"):
        drive(iter_layout_2d_process(tmp_path / "rows.npy", 50, sample=10, chunk=10))


def test_a_large_corpus_is_laid_out_in_a_child_process_and_a_stop_ends_it(tiny_model, topic_corpus, monkeypatch):
    """Above PROCESS_ABOVE rows (lowered here) prepare makes the map in a child process from
    the cache file: the same map as in process; a stop during the layout ends the child."""
    import multiprocessing

    import simcse_core.explore as ex

    in_process = run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg", max_seq_length=16))
    (in_process.folder / "layout.f32.npy").unlink()  # made again below
    monkeypatch.setattr(ex, "PROCESS_ABOVE", 100)
    made = []
    real = ex.iter_layout_2d_process
    monkeypatch.setattr(ex, "iter_layout_2d_process", lambda *a, **k: (made.append(a[0]), real(*a, **k))[1])
    data = run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg", max_seq_length=16))
    assert made and str(made[0]).endswith("embeddings.f16.npy")  # the cache file itself, read by memory map
    np.testing.assert_allclose(data.layout, in_process.layout, atol=1e-4)
    (data.folder / "layout.f32.npy").unlink()
    steps = []
    stop = lambda: any(s.stage == "layout" for s in steps)  # noqa: E731 - as Cancel, once the map has begun
    assert run_prepare(prepare(topic_corpus, tiny_model, pooler_type="avg", max_seq_length=16, should_stop=stop),
                       steps.append) is None
    assert not [p for p in multiprocessing.active_children() if p.name == "simcse-umap"]
