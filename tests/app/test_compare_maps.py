"""The comparison window's Hammer panels stay inside the map's ellipse and its overlap
table shows whole numbers (issue 14, defect 16)."""

from __future__ import annotations

import numpy as np
import pytest

from app.tools.compare import CompareWindow, align_to_first
from simcse_core.projection import hammer

ELLIPSE_TOL = 1e-4


def inside_ellipse(xy: np.ndarray) -> bool:
    xy = np.asarray(xy, dtype=np.float64)
    return bool((xy[:, 0] ** 2 / 8 + xy[:, 1] ** 2 / 2 <= 1 + ELLIPSE_TOL).all())


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_aligned_spheres_stay_on_the_sphere_and_in_the_ellipse():
    rng = np.random.default_rng(0)
    ids = np.arange(200, dtype=np.int64)
    base = _unit(rng.standard_normal((200, 3)))
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    pos = [base, _unit(base @ q + 0.1 * rng.standard_normal((200, 3))), _unit(rng.standard_normal((200, 3)))]
    align_to_first(pos, [ids, ids, ids], "hammer")
    for p in pos:
        np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1, atol=1e-9)
        assert inside_ellipse(hammer(p))
    assert np.abs(pos[1] - base).mean() < 0.15  # the rotated run is brought back onto the first
    circles = [_unit(rng.standard_normal((50, 2))) for _ in range(3)]
    align_to_first(circles, [ids[:50]] * 3, "circle")
    for c in circles:
        np.testing.assert_allclose(np.linalg.norm(c, axis=1), 1, atol=1e-9)


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory, tiny_model, small_corpus, tiny_config):
    from simcse_core.trainer import train

    out = []
    for t in (0.02, 0.2, 1.0):
        d = tmp_path_factory.mktemp("tour") / f"t{t}"
        for _ in train(tiny_config(tiny_model, small_corpus, d, temp=t)):
            pass
        out.append(d)
    return out


@pytest.mark.parametrize("method", ["hammer", "raw"])
def test_temperature_tour_panels_inside_the_ellipse_and_numbers_readable(qtbot, three_runs, method):
    cw = CompareWindow(method=method)
    qtbot.addWidget(cw)
    cw.resize(1366, 768)
    cw.show()
    try:
        with qtbot.waitSignal(cw.frames_drawn, timeout=60_000):
            with qtbot.waitSignal(cw.runs_loaded, timeout=60_000):
                cw.open_runs([str(p) for p in three_runs], ["t=0.02 (a long label)", "t=0.2", "t=1"])
        for position in range(len(cw.union_steps)):
            if cw.drawn_position != position:
                with qtbot.waitSignal(cw.frames_drawn, timeout=30_000):
                    cw.set_position(position)
            for v in cw.views:
                assert v.rows.size > 0 and inside_ellipse(v.xy), f"step {cw.step}: points outside the ellipse"
        table = cw.overlap_table
        fm = table.fontMetrics()
        for a in range(3):
            for b in range(3):
                text = table.item(a, b).text()
                float(text)  # a number, not "1..."
                assert fm.horizontalAdvance(text) + 4 <= table.columnWidth(b), (text, table.columnWidth(b))
    finally:
        cw.close()
        cw.shutdown()
