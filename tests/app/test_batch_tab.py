"""The batch view: its cells, hovered numbers, clicked rows and their losses against
float64 computations written in the tests (tests/app/batch_helpers.py), in both
layouts; the mean over rows equal to the trainer's loss on a real run, replayed from
its folder and scrubbed along the timeline; old run folders; the lens's t'."""

from __future__ import annotations

import re
import time
import zipfile

import numpy as np
import pytest

from app.batch_tab import BatchTab
from batch_helpers import batch_snapshot, clustered_views, ref_logits, ref_row_ce
from panel_helpers import make_context


@pytest.fixture
def batch_view(qtbot, tmp_path):
    """(tab, context): a BatchTab in a bare window, shown."""
    ctx, _messages = make_context(qtbot, tmp_path)
    tab = BatchTab(ctx)
    ctx.dialog_parent.setCentralWidget(tab)
    ctx.dialog_parent.resize(1200, 800)
    return tab, ctx


def _add(qtbot, tab, ctx, snap):
    with qtbot.waitSignal(tab.drawn, timeout=30_000):
        ctx.run_model.add(snap)


def _softmax(row: np.ndarray) -> np.ndarray:
    e = np.exp(row - row[np.isfinite(row)].max())
    return e / e.sum()


@pytest.mark.parametrize("layout", ["simcse", "ntxent"])
def test_cells_rows_and_loss_match_float64(qtbot, batch_view, layout):
    tab, ctx = batch_view
    n, t = 12, 0.05
    z1, z2 = clustered_views(n, seed=1)
    ids = np.arange(100, 100 + n)
    ctx.sentences.set_probe(ids, [f"sentence {i}" for i in ids])
    ctx.run_model.config = {"loss_variant": layout}
    _add(qtbot, tab, ctx, batch_snapshot(4, z1, z2, t, layout, ids))
    assert tab.layout_key() == layout  # the run's layout first
    logits, labels = ref_logits(z1, z2, t, layout)
    rows = 2 * n if layout == "ntxent" else n
    d = tab.display
    assert d.image.shape == (rows, rows)
    # cosine image, batch order: the formula's cosines, NaN exactly on the masked diagonal
    cos = logits * t
    assert np.array_equal(np.isnan(d.image), np.isinf(cos))
    assert np.isnan(np.diag(d.image)).all() == (layout == "ntxent")
    np.testing.assert_allclose(d.image[np.isfinite(cos)], cos[np.isfinite(cos)], atol=1e-6)
    assert np.array_equal(d.outline_cells[:, 1], labels)  # the positives are outlined
    assert d.label_names == [str(v) for v in labels]
    if layout == "ntxent":
        assert d.col_names[:4] == ["a1", "a2", "b1", "b2"] and d.label_names[:4] == ["1", "0", "3", "2"]
    tab.set_choices(values="logit")
    np.testing.assert_allclose(tab.display.image[np.isfinite(logits)], logits[np.isfinite(logits)], atol=2e-5)
    assert "1/t = 20" in tab.display.label
    tab.set_choices(values="probability")
    probs = np.array([_softmax(r) for r in logits])
    np.testing.assert_allclose(np.nan_to_num(tab.display.image), probs, atol=1e-6)
    tab.set_choices(values="log-probability")
    fin = np.isfinite(logits)
    np.testing.assert_allclose(tab.display.image[fin], np.maximum(np.log10(probs[fin]), tab.display.levels[0]),
                               atol=1e-4)
    # hover: both sentences and the three numbers
    text = tab.hover_cell(2, 5)
    assert f"sentence {ids[2 // 2 if layout == 'ntxent' else 2]}" in text
    assert f"cosine {cos[2, 5]:.4f}" in text and f"logit {logits[2, 5]:.3f}" in text
    assert f"probability {probs[2, 5]:.4g}" in text
    # click a row: its bars are its softmax, its loss -log p(label), the mean the batch loss
    ce = ref_row_ce(logits, labels)
    tab.select_row(3)
    np.testing.assert_allclose(tab.chart.heights, probs[3], atol=1e-6)
    shown = re.search(r"−log p\(label\) = (\S+) at t = 0.05", tab.row_label.text())
    assert float(shown.group(1)) == pytest.approx(ce[3], rel=1e-5, abs=1e-9)
    np.testing.assert_allclose(tab.matrix.row_loss, ce, atol=1e-5)
    reported = float(ctx.run_model.snapshots[-1].step_losses[-1, 1])
    assert abs(tab.matrix.loss - reported) < 1e-4
    shown = re.search(rf"the mean of the {rows} rows' cross-entropies = (\S+) · the trainer's loss for this batch = (\S+) ",
                      tab.batch_label.text())
    assert float(shown.group(1)) == pytest.approx(float(shown.group(2)), abs=1e-4)
    assert float(shown.group(1)) == pytest.approx(ce.mean(), rel=1e-5)


def test_both_layouts_cluster_order_and_false_negative_marks(qtbot, batch_view):
    tab, ctx = batch_view
    n, t = 10, 0.1
    z1, z2 = clustered_views(n, seed=2)
    fn = np.zeros((n, n), dtype=np.int8)
    fn[1, 4] = fn[4, 1] = 1  # removed (eliminate)
    _add(qtbot, tab, ctx, batch_snapshot(2, z1, z2, t, "simcse", np.arange(n), fn=fn))
    d = tab.display
    assert sorted(map(tuple, d.mark_cells.tolist())) == [(1, 4), (4, 1)] and set(d.mark_kinds) == {1}
    assert np.isnan(d.image[1, 4]) and np.isnan(d.image[4, 1])  # removed: masked, not a colour
    logits, labels = ref_logits(z1, z2, t, "simcse", fn == 1)
    assert abs(tab.matrix.loss - ref_row_ce(logits, labels).mean()) < 1e-5
    tab.set_choices(layout="ntxent")
    d = tab.display
    assert d.image.shape == (2 * n, 2 * n) and len(d.mark_cells) == 8  # every view of 1 against every view of 4
    logits2, labels2 = ref_logits(z1, z2, t, "ntxent", fn == 1)
    assert abs(tab.matrix.loss - ref_row_ce(logits2, labels2).mean()) < 1e-5
    # cluster order: a symmetric permutation keeping both views together, positives beside the diagonal
    tab.set_choices(order="cluster")
    d = tab.display
    order = tab.shown.orders["cluster"]
    assert np.array_equal(d.rows, np.stack([2 * order, 2 * order + 1], 1).ravel())
    assert np.array_equal(d.rows, d.cols)
    assert np.all(np.abs(d.outline_cells[:, 1] - np.arange(2 * n)) == 1)
    want = (logits2 * t)[np.ix_(d.rows, d.cols)]
    assert np.array_equal(np.isnan(d.image), np.isinf(want))
    np.testing.assert_allclose(d.image[np.isfinite(want)], want[np.isfinite(want)], atol=1e-6)
    # a clicked row stays the same sentence and view across orders and layouts
    tab.select_row(5)
    key = (tab.matrix.row_sentence[d.rows[5]], tab.matrix.row_view[d.rows[5]])
    tab.set_choices(order="position")
    assert (tab.matrix.row_sentence[tab.display.rows[tab.row]], tab.matrix.row_view[tab.display.rows[tab.row]]) == key
    tab.set_choices(layout="simcse")
    assert tab.display.rows[tab.row] == key[0]


def test_t_prime_follows_the_lens(qtbot, batch_view):
    from app.panels.lens_panel import LensPanel

    tab, ctx = batch_view
    lens = LensPanel(ctx)
    tab.follow_lens(lens)
    n = 8
    z1, z2 = clustered_views(n, seed=3)
    snap = batch_snapshot(2, z1, z2, 0.05, "simcse", np.arange(n))
    _add(qtbot, tab, ctx, snap)
    lens.set_snapshot(snap, defer=False)  # as the studio's analysis feed does
    tab.select_row(2)
    lens.set_t_prime(0.2)  # the lens recomputes and says so (updated): the view reads t' again
    assert tab.t_prime == pytest.approx(0.2)
    logits, labels = ref_logits(z1, z2, 0.2, "simcse")
    np.testing.assert_allclose(tab.chart.heights_tp, _softmax(logits[2]), atol=1e-6)
    shown = re.search(r"; (\S+) at the lens's t' = 0.2", tab.row_label.text())
    assert float(shown.group(1)) == pytest.approx(ref_row_ce(logits, labels)[2], rel=1e-5)


def test_hidden_view_computes_nothing_until_shown(qtbot, batch_view):
    tab, ctx = batch_view
    tab.hide()
    z1, z2 = clustered_views(6, seed=4)
    ctx.run_model.add(batch_snapshot(2, z1, z2, 0.05, "simcse", np.arange(6)))
    assert tab.feed.jobs == 0 and tab.shown is None
    with qtbot.waitSignal(tab.drawn, timeout=30_000):
        tab.show()
    assert tab.feed.jobs == 1 and tab.shown.step == 2
    with qtbot.waitSignal(tab.drawn, timeout=5_000):
        ctx.run_model.clear()
    assert tab.shown is None and tab.display is None


def test_a_live_run_reaches_the_view_at_most_once_per_live_ms(qtbot, batch_view):
    """A snapshot every step: the first is drawn at once, those that follow within
    LIVE_MS fold into one drawing of the newest; the run's last snapshot at once."""
    from app.batch_tab.feed import LIVE_MS

    tab, ctx = batch_view
    z1, z2 = clustered_views(6, seed=6)
    _add(qtbot, tab, ctx, batch_snapshot(1, z1, z2, 0.05, "simcse", np.arange(6)))
    assert tab.feed.jobs == 1 and tab.shown.step == 1
    t0 = time.perf_counter()
    for step in range(2, 32):  # 30 snapshots in a burst
        ctx.run_model.add(batch_snapshot(step, z1, z2, 0.05, "simcse", np.arange(6)))
    burst_s = time.perf_counter() - t0
    qtbot.waitUntil(lambda: tab.shown is not None and tab.shown.step == 31 and not tab.feed.busy, timeout=30_000)
    assert tab.feed.jobs <= 2 + int(1000 * (time.perf_counter() - t0) / LIVE_MS), tab.feed.jobs
    assert tab.feed.jobs < 10 and burst_s < 5
    last = batch_snapshot(32, z1, z2, 0.05, "simcse", np.arange(6))
    last.done = True
    jobs = tab.feed.jobs
    with qtbot.waitSignal(tab.drawn, timeout=LIVE_MS // 2):  # not held back by the pacing
        ctx.run_model.add(last)
    assert tab.shown.step == 32 and tab.feed.jobs == jobs + 1


def test_batch_of_512_draws_as_one_image(qtbot, batch_view):
    tab, ctx = batch_view
    n = 512
    z1, z2 = clustered_views(n, d=64, seed=5)
    ctx.run_model.config = {"loss_variant": "ntxent"}
    _add(qtbot, tab, ctx, batch_snapshot(2, z1, z2, 0.05, "ntxent", np.arange(n)))
    assert tab.view.image.image.shape == (1024, 1024)
    t0 = time.perf_counter()
    tab.set_choices(values="probability")
    tab.set_choices(order="cluster")
    elapsed = (time.perf_counter() - t0) / 2
    assert elapsed < 1.0, f"a redraw of 1024 x 1024 took {elapsed:.2f} s"
    logits, labels = ref_logits(z1, z2, 0.05, "ntxent")
    assert abs(tab.matrix.loss - ref_row_ce(logits, labels).mean()) < 1e-4
    tab.select_row(1000)
    assert len(tab.chart.heights) == 1024 and tab.chart.heights.sum() == pytest.approx(1.0, abs=1e-4)


# ------------------------------------------------------------------ a real run, replayed
def _wait_step(qtbot, tab, step):
    qtbot.waitUntil(lambda: tab.shown is not None and tab.shown.step == step and not tab.feed.busy, timeout=30_000)


def test_replayed_run_folder_matches_the_trainers_losses(qtbot, make_window, finished_run):
    w = make_window(restore=False)
    w.model.memory_snapshots = 1  # older snapshots' batches are read back from the folder
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(finished_run)
    qtbot.waitUntil(lambda: w.model.finished, timeout=30_000)
    tab = w.batch_tab
    w.tabs.setCurrentWidget(tab)
    snaps = w.model.snapshots
    with_batch = [i for i, s in enumerate(snaps) if s.step_losses is not None and s.scalars.get("top1_acc") is not None]
    assert len(with_batch) >= 3
    layout = w.model.config.get("loss_variant", "simcse")
    for i in (with_batch[-1], with_batch[0], with_batch[1]):
        w.view_state.snapshot_index = i
        _wait_step(qtbot, tab, snaps[i].step)
        reported = float(snaps[i].step_losses[-1, 1])
        assert tab.layout_key() == layout
        assert abs(tab.matrix.loss - reported) < 1e-4, (i, tab.matrix.loss, reported)
        assert "ntxent" in tab.shown.matrices and tab.shown.note == ""
    assert snaps[with_batch[0]].batch_z1 is None  # it was read back from disk


def test_old_run_folder_without_views_shows_the_reference_layout(qtbot, make_window, finished_run, tmp_path):
    import shutil

    old = tmp_path / "old-run"
    shutil.copytree(finished_run, old)
    for p in (old / "snapshots").glob("*.npz"):
        with np.load(p) as z:
            arrays = {k: z[k] for k in z.files if k not in ("batch_z1", "batch_z2", "batch_fn", "batch_hard")}
        np.savez(p, **arrays)
        assert "batch_z1" not in zipfile.ZipFile(p).namelist()
    w = make_window(restore=False)
    with qtbot.waitSignal(w.runs.run_updated, timeout=30_000):
        w.open_run(old)
    qtbot.waitUntil(lambda: w.model.finished, timeout=30_000)
    tab = w.batch_tab
    w.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.shown is not None, timeout=30_000)
    assert set(tab.shown.matrices) == {"simcse"} and "needs a newer run" in tab.note_label.text()
    assert not tab.layout_box.model().item(1).isEnabled()
    snap = w.model.snapshots[tab.shown.index]
    sim = snap.batch_sim.astype(np.float64)
    np.testing.assert_allclose(tab.display.image, sim, atol=1e-6)  # the stored cosines
