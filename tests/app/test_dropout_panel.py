"""The dropout-view dock (issue 12, item 2) on a finished run of the tiny BERT, and the
lens's triplet-against-InfoNCE section (item 3).

Dropout views: p = 0 puts every view on the centre, the same mask makes each pair's two
copies identical (drawn on top of each other), the nearest other sentence's cosine is
the shown snapshot's, and the panel names the weights it used for the shown step (the
final model, a checkpoint, or the starting model). Triplet section: its numbers equal
an independent computation on the lens's row and its InfoNCE is the lens's own loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
from panel_helpers import make_context

from app.panels.analysis import DROPOUT_DOCK, add_analysis_panels
from app.panels.dropout_job import saved_steps, weights_for_step
from simcse_core.snapshot import Snapshot

TIMEOUT = 60_000


def _show_dropout(qtbot, w):
    panel = w.context.parts.dropout
    w.context.parts.docks[DROPOUT_DOCK].raise_()
    qtbot.waitUntil(lambda: panel.shown, timeout=5_000)
    return panel


def _settle(qtbot, panel, **controls):
    """Set the controls and wait for the drawing of exactly those settings."""
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
        panel.set_controls(**controls)
        panel.compute()
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)
    r = panel.result
    if r.views.p != panel.p or r.views.same_mask != panel.same_mask or r.views.k != panel.k:
        with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
            panel.compute()
    return panel.result


def test_weights_for_the_shown_step_are_named(finished_run):
    config = {"model_name_or_path": "some-model", "max_seq_length": 16}
    saved = saved_steps(str(finished_run), final_step=6)
    assert [(s, what) for s, _p, what in saved] == [(4, "checkpoint"), (6, "checkpoint"), (6, "final model")]
    assert weights_for_step(config, str(finished_run), 6, final_step=6).label == "weights of step 6 (final model)"
    at4 = weights_for_step(config, str(finished_run), 4, final_step=6)
    assert at4.step == 4 and at4.label == "weights of step 4 (checkpoint)"
    assert at4.spec.endswith("step_0000004/model")
    at5 = weights_for_step(config, str(finished_run), 5)
    assert at5.step == 4 and "newest saved at or before the shown step 5" in at5.label
    at2 = weights_for_step(config, str(finished_run), 2)
    assert at2.step == 0 and at2.spec == "some-model"
    assert at2.label == ("weights of step 0 (the starting model some-model; no weights saved at or before "
                         "the shown step 2)")
    assert weights_for_step(config, None, 0).label == "weights of step 0 (the starting model some-model)"


def test_dropout_views_in_the_studio(qtbot, studio):
    w, _tools = studio
    panel = _show_dropout(qtbot, w)
    assert panel.text == w.model.probe_texts[0] and panel.probe_row == 0  # the first probe sentence by default
    r = _settle(qtbot, panel, p=0.0, k=16, same_mask=False)
    np.testing.assert_allclose(r.views.cos_to_centre, 1.0, atol=1e-6)  # p = 0: one point
    assert np.abs(np.asarray(panel.plot.copy_a.getData())).max() < 1e-3
    assert "weights of step 6 (final model)" in panel.weights_label.text()
    assert "spread" in panel.numbers_label.text()
    # the nearest other sentence: the shown snapshot's own probe embeddings
    e = w.model.probe_matrix(-1).astype(np.float64)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    cos = e @ e[0]
    cos[0] = -2
    assert r.nearest_row == int(np.argmax(cos)) and abs(r.nearest_cos - cos.max()) < 1e-6
    assert abs(np.linalg.norm(r.xy[-1]) - math.acos(min(1.0, r.nearest_cos))) < 1e-9  # drawn at its angle
    same = _settle(qtbot, panel, p=0.2, same_mask=True)
    np.testing.assert_allclose(same.views.pair_cos, 1.0, atol=1e-6)
    a, b = panel.plot.copy_a.getData(), panel.plot.copy_b.getData()
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])  # the copies drawn on top of each other
    diff = _settle(qtbot, panel, same_mask=False)
    assert diff.views.pair_cos.max() < 1 - 1e-4 and diff.views.spread < 1 - 1e-4
    assert panel.plot.shown_range >= float(np.degrees(np.linalg.norm(diff.xy, axis=1).max()))  # all in view


def test_the_panel_follows_the_timeline_and_selection(qtbot, studio):
    w, _tools = studio
    panel = _show_dropout(qtbot, w)
    steps = [s.step for s in w.model.snapshots]
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
        w.view_state.snapshot_index = steps.index(4)
        panel.compute()
    qtbot.waitUntil(lambda: "weights of step 4 (checkpoint)" in panel.weights_label.text(), timeout=TIMEOUT)
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
        w.view_state.snapshot_index = 0
        panel.compute()
    qtbot.waitUntil(lambda: "weights of step 0 (the starting model" in panel.weights_label.text(), timeout=TIMEOUT)
    w.selection.select(int(w.model.probe_ids[3]))
    assert panel.probe_row == 3 and panel.text == w.model.probe_texts[3]
    assert panel.combo.currentData() == 3


def test_a_hidden_panel_waits_until_shown(qtbot, studio):
    w, _tools = studio
    panel = w.context.parts.dropout
    w.context.parts.docks["lensDock"].raise_()
    qtbot.waitUntil(lambda: not panel.shown, timeout=5_000)
    qtbot.waitUntil(lambda: not panel.busy, timeout=TIMEOUT)
    panel.result = None
    panel.set_controls(p=0.3)
    qtbot.wait(400)
    assert panel.stale and not panel.busy and panel.result is None
    with qtbot.waitSignal(panel.updated, timeout=TIMEOUT):
        _show_dropout(qtbot, w)
    assert panel.result is not None and panel.result.views.p == pytest.approx(0.3)


# ---------------------------------------------------------------- triplet vs InfoNCE in the lens
def _lens_snapshot(n: int = 24, seed: int = 0) -> Snapshot:
    rng = np.random.default_rng(seed)
    z1 = rng.normal(size=(n, 16))
    z1 /= np.linalg.norm(z1, axis=1, keepdims=True)
    z2 = z1 + 0.5 * rng.normal(size=(n, 16))
    z2 /= np.linalg.norm(z2, axis=1, keepdims=True)
    ids = np.arange(100, 100 + n, dtype=np.int64)
    return Snapshot(step=3, total_steps=10, epoch=0.1, loss=1.0, temperature=0.05, lr=1e-4, batch_ids=ids,
                    batch_sim=(z1 @ z2.T).astype(np.float32), scalars={})


def test_triplet_beside_infonce_in_the_lens(qtbot, tmp_path):
    ctx, _messages = make_context(qtbot, tmp_path)
    lens, _fn = add_analysis_panels(ctx)
    snap = _lens_snapshot()
    ctx.run_model.add(snap)
    lens.select_anchor(105)
    sec = lens.triplet
    row = snap.batch_sim[5].astype(np.float64)  # anchor 105: row 5, its positive on the diagonal
    negs = np.delete(row, 5)
    for t_prime, margin in ((0.05, 0.0), (0.2, 0.3), (0.001, 0.1)):
        sec.set_margin(margin)
        lens.set_t_prime(t_prime)
        c = sec.current
        t = lens.t_prime
        assert c.triplet == pytest.approx(max(0.0, margin + negs.max() - row[5]), abs=1e-7)
        want = -(row[5] / t) + math.log(sum(math.exp(s / t - row.max() / t) for s in row)) + row.max() / t
        assert c.infonce == pytest.approx(want, rel=1e-6)
        assert c.infonce == pytest.approx(max(lens.current.at_tp.loss, 0.0), rel=1e-6, abs=1e-9)  # the lens's loss
        assert 0 <= c.scaled - c.limit <= t * math.log(len(row)) + 1e-9
    assert "triplet" in sec.numbers.text() and "InfoNCE" in sec.numbers.text()
    lens.clear()
    assert sec.current is None


def test_new_snapshots_recompute_at_most_once_per_live_interval(qtbot, studio, monkeypatch):
    """A snapshot a step (the soak's setting): the views follow the newest snapshot at
    most every LIVE_MS, while a person's change still answers after the short debounce."""
    from dataclasses import replace

    from app.panels.dropout_panel import DEBOUNCE_MS, LIVE_MS

    w, _tools = studio
    panel = _show_dropout(qtbot, w)
    qtbot.waitUntil(lambda: not panel.busy and not panel._timer.isActive(), timeout=TIMEOUT)
    calls: list[float] = []
    monkeypatch.setattr(panel, "compute", lambda: calls.append(1.0) or True)
    last = w.model.latest
    for k in range(8):  # eight snapshots in quick succession, as a run at a snapshot a step
        w.context.run_model.add(replace(last, step=last.step + k + 1))
        qtbot.wait(20)
    assert panel._timer.isActive() and panel._timer.interval() == LIVE_MS and not calls
    qtbot.waitUntil(lambda: len(calls) == 1, timeout=LIVE_MS * 3)
    qtbot.wait(300)
    assert len(calls) == 1  # one recompute for the eight
    panel.set_controls(p=0.2)  # a person's change: the short debounce
    assert panel._timer.interval() == DEBOUNCE_MS
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=DEBOUNCE_MS * 10)
