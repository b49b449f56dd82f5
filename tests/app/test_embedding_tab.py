"""The embedding tab's split: jobs get data captured on the GUI thread (never the live
RunModel or a live cache), and the ViewState is the one place for the shown snapshot,
colouring, k, sphere method and UMAP cadence (controls write it, the tab follows it)."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from app.embedding_tab.controller import ProbeRequest
from app.embedding_tab.job_thread import JobThread
from app.state.run_model import RunModel
from app.state.selection import Selection
from app.state.view_state import ViewState

from views_helpers import clustered

TIMEOUT = 30_000


@pytest.fixture
def tab(qtbot):
    from app.embedding_tab import EmbeddingTab

    made = []

    def make(view_state=None, **kw):
        v = EmbeddingTab(RunModel(), view_state or ViewState(), Selection(), **kw)
        qtbot.addWidget(v)
        v.resize(900, 600)
        v.show()
        qtbot.waitExposed(v)
        made.append(v)
        return v

    yield make
    for v in made:
        v.shutdown()


def _leaves(x, depth=0):
    """Every object inside a job argument (through tuples, lists, dict values, requests)."""
    yield x
    if depth > 4:
        return
    if isinstance(x, (tuple, list, set, frozenset)):
        for y in x:
            yield from _leaves(y, depth + 1)
    elif isinstance(x, dict):
        for y in x.values():
            yield from _leaves(y, depth + 1)
    elif isinstance(x, ProbeRequest):
        yield from _leaves((x.array, x.load), depth + 1)


def test_jobs_never_get_the_live_model_or_a_live_cache(qtbot, tab, monkeypatch):
    submitted: list[tuple[str, tuple]] = []
    real_submit = JobThread.submit

    def spy(self, channel, fn, *args, token=None):
        submitted.append((channel, args))
        real_submit(self, channel, fn, *args, token=token)

    monkeypatch.setattr(JobThread, "submit", spy)
    v = tab()
    c = v.controller
    for s in clustered(n_snaps=4):
        v.model.add(s)
    qtbot.waitUntil(lambda: len(v.drift_series()[0]) == 4 and 3 in v.umap and len(v.frames) == 4, timeout=60_000)
    with qtbot.waitSignal(v.colouring_changed, timeout=TIMEOUT, check_params_cb=lambda n: n.startswith("k-means")):
        v.view_state.colour_by = "k-means"
    v.view_state.snapshot_index = 1
    v.search("music")
    v.view_state.sphere_method = "umap"
    qtbot.waitUntil(lambda: bool(c.umap_sphere), timeout=60_000)
    channels = {ch for ch, _ in submitted}
    assert {"frame", "prefetch", "drift", "umap", "kmeans", "corpus"} <= channels, channels
    live = [c.frames, c.umap, c.umap_sphere, c.kmeans_labels, c.drift, c.umap_timings, v.model.snapshots,
            v.model.lazy_probe, v.model.series]
    for ch, args in submitted:
        for leaf in _leaves(args):
            assert not isinstance(leaf, RunModel), (ch, leaf)
            assert not any(leaf is x for x in live), (ch, type(leaf))
            # in-memory snapshots travel as their arrays: no loader bound to the model
            assert not isinstance(leaf, partial), (ch, leaf)


def test_a_snapshot_on_disk_travels_as_a_loader_bound_to_its_index(tab):
    v = tab()
    snaps = clustered(n_snaps=2)
    arrays = {s.step: s.probe_embeddings.copy() for s in snaps}
    for s in snaps:
        v.model.lazy_probe[s.step] = (lambda a=arrays[s.step]: a)
        v.model.add(s.replace(probe_embeddings=None))
    req = v.controller.probe_request(1)
    assert req.array is None and isinstance(req.load, partial) and req.load.args == (1,)
    assert np.allclose(req.matrix(), arrays[10], atol=1e-3)


def test_the_view_state_is_the_one_place_for_what_is_shown(qtbot, tab):
    vs = ViewState(snapshot_index=1, colour_by="none", kmeans_k=5, sphere_method="umap", umap_every=3)
    v = tab(vs, use_gl=False)
    # the controls show the state they were built with
    assert v.timeline.umap_every.value() == 3 and v.legend.k.value() == 5
    assert v.sphere_method_box.currentIndex() == 1 and not v.timeline.follow.isChecked()
    for s in clustered(n_snaps=3):
        v.model.add(s)
    qtbot.waitUntil(lambda: v.drawn_index == 1, timeout=TIMEOUT)
    assert v.shown_index == 1 and v.colouring.name == "none" and v.legend.combo.currentText() == "none"
    # code writes the state: the tab follows
    vs.snapshot_index = -1
    qtbot.waitUntil(lambda: v.drawn_index == 2, timeout=TIMEOUT)
    assert v.timeline.follow.isChecked() and v.timeline.slider.value() == 2
    vs.colour_by = "topic"
    assert v.colouring.name == "topic" and v.legend.combo.currentText() == "topic"
    vs.sphere_method = "pca"
    assert v.sphere_method_box.currentIndex() == 0
    # a person's change writes the state
    v.sphere_method_box.setCurrentIndex(1)
    assert vs.sphere_method == "umap"
    v.timeline.umap_every.setValue(7)
    assert vs.umap_every == 7
    v.legend.combo.setCurrentText("none")
    assert vs.colour_by == "none" and v.colouring.name == "none"
    v.timeline.follow.setChecked(False)  # unticking "follow newest" stays where the views are
    assert vs.snapshot_index == 2
    v.timeline.slider.setValue(0)
    assert vs.snapshot_index == 0
    qtbot.waitUntil(lambda: v.drawn_index == 0, timeout=TIMEOUT)
    v.timeline.follow.setChecked(True)
    assert vs.snapshot_index == -1
    # a new run: follow it, colour by its first label column again when "" (not chosen)
    vs.colour_by = ""
    v.model.clear()
    assert v.shown_index is None and not v.frames
    for s in clustered(n_snaps=2, seed=1):
        v.model.add(s)
    qtbot.waitUntil(lambda: v.drawn_index == 1, timeout=TIMEOUT)
    assert vs.colour_by == "topic"


def test_shutdown_stops_listening_to_the_view_state(tab):
    vs = ViewState()
    v = tab(vs)
    v.shutdown()
    assert not any(vs._listeners.values())  # noqa: SLF001 - the evented model's own registry
    vs.update(snapshot_index=2, sphere_method="umap", umap_every=2, colour_by="k-means")  # nothing breaks


def test_a_long_run_keeps_a_bounded_window_of_frames(qtbot, tab, monkeypatch):
    """An hour of snapshots must not grow the frame cache without end (soak, issue 13):
    frames are prefetched around the shown snapshot and the farthest are dropped."""
    import app.embedding_tab.controller as ctl

    monkeypatch.setattr(ctl, "FRAME_WINDOW", 4)
    monkeypatch.setattr(ctl, "MAX_FRAMES", 6)
    v = tab(ViewState(umap_enabled=False))
    for s in clustered(P=60, n_snaps=14):
        v.model.add(s)
    c = v.controller
    qtbot.waitUntil(lambda: v.drawn_index == 13, timeout=2 * TIMEOUT)
    qtbot.waitUntil(lambda: {10, 11, 12, 13} <= set(c.frames), timeout=2 * TIMEOUT)
    assert len(c.frames) <= 6
    v.view_state.snapshot_index = 2  # scrub back: its frame comes back on demand
    qtbot.waitUntil(lambda: v.drawn_index == 2, timeout=2 * TIMEOUT)
    qtbot.waitUntil(lambda: {0, 1, 2, 3} <= set(c.frames) or {1, 2, 3, 4} <= set(c.frames), timeout=2 * TIMEOUT)
    assert len(c.frames) <= 6 and 2 in c.frames
    del c.frames[3]  # as if evicted: a neighbour of snapshot 1 is missing while 1's own frame is cached
    v.view_state.snapshot_index = 1  # scrubbing onto a cached frame still fetches the window around it
    qtbot.waitUntil(lambda: v.drawn_index == 1 and 3 in c.frames, timeout=2 * TIMEOUT)
    assert len(c.frames) <= 6
    assert len(v.drift_series()[0]) == 14  # drift is a float a snapshot: all kept


def test_pending_scan_equals_a_full_scan_as_the_run_grows():
    """The UMAP and drift schedulers' incremental 'which snapshots still lack a result'
    (PendingScan) equals a full scan after every change: new snapshots, results arriving,
    a cadence, and an entry inserted in the middle (a followed run's late files)."""
    import random

    from app.embedding_tab.controller import PendingScan

    rng = random.Random(0)
    seq: list[int] = []
    done: set[int] = set()
    scan = PendingScan()
    every = 3
    for t in range(400):
        r = rng.random()
        if r < 0.5:
            seq.append((seq[-1] + rng.randint(1, 3)) if seq else 0)
        elif r < 0.8 and seq:
            done.add(rng.choice(seq))
        elif r < 0.83 and len(seq) > 3:  # a late entry between two seen ones
            k = rng.randrange(1, len(seq))
            gap = [v for v in range(seq[k - 1] + 1, seq[k]) if v not in seq]
            if gap:
                seq.insert(k, gap[0])
        full = [i for k, i in enumerate(seq) if k % every == 0 and i not in done]
        assert scan.update(seq, done.__contains__, lambda k: k % every == 0) == full, t


def test_umap_layouts_are_bounded_by_thinning_the_old_half():
    """A long run makes thousands of UMAP layouts: beyond the limit every other layout of
    the older half goes (the first, the newest half and the shown one stay), so memory is
    bounded while the timeline still finds a layout at or before any snapshot."""
    from app.embedding_tab.controller import nearest_key, thin_layouts

    kept: dict[int, int] = {}
    for i in range(0, 20_000, 5):  # a layout every fifth snapshot
        kept[i] = i
        for k in thin_layouts(kept, 100, keep=(i, 40)):
            del kept[k]
        assert len(kept) <= 100
    keys = sorted(kept)
    assert keys[0] == 0 and 40 in kept and keys[-1] == 19_995
    recent = [k for k in range(0, 20_000, 5) if k >= keys[-50]]
    assert all(k in kept for k in recent)  # the newest half: every layout
    gaps = np.diff(keys)
    assert gaps.max() > 5 and (gaps[:len(gaps) // 4] >= gaps[-len(gaps) // 4:].max()).all()  # coarser in the past
    assert nearest_key(kept, 7_777) <= 7_777
    assert thin_layouts(range(50), 100) == []


def test_thinned_layouts_are_not_made_again(tab, monkeypatch):
    """The controller drops thinned layouts but remembers it made them: the scheduler
    does not compute them again (it would, from the layout dict alone)."""
    from app.embedding_tab import controller as ctl

    monkeypatch.setattr(ctl, "MAX_UMAP_LAYOUTS", 4)
    v = tab()
    c = v.controller
    for s in clustered(n_snaps=3):
        v.model.add(s)
    layout = np.zeros((5, 2), np.float32)
    for i in range(12):
        c._umap_done(None, (i, layout, None, {"total": 0.0}))
        assert len(c.umap) <= 4
    assert c.umap_made == set(range(12)) and 0 in c.umap and 11 in c.umap
    assert c._umap_wanted(list(range(12))) == []
