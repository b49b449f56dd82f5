"""Figure exports: the four embedding views without the timeline and controls, the lens
and false-negative panels as targets, and the sphere's whole map in any shape (issue 14,
defects 9 and 1)."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from app.tools.exporting import export_image, image_targets


def test_four_views_without_controls_and_the_panels_listed(studio, tmp_path):
    w, tools = studio
    parts = w.context.parts
    targets = dict(image_targets(parts, None))
    emb = parts.embedding
    four = targets["Embedding space (the four views)"]
    assert emb not in targets.values()  # the whole tab (Play, timeline, combo boxes) is not offered
    for control in (emb.timeline, emb.legend, emb.sphere_method_box, emb.info):
        assert not four.isAncestorOf(control)
    for view in emb.grid.views_by_role().values():
        assert four.isAncestorOf(view)
    lens, fn = parts.lens, parts.false_negatives
    assert targets["Temperature lens (its plots)"] is lens.plots
    for plot in (lens.plots.bar_plot, lens.plots.hist_top1, lens.plots.hist_eff):
        assert any(t is plot and n.startswith("Lens: ") for n, t in targets.items())
    assert targets["False negatives: masked per step"] is fn.mask_plot
    assert targets["False negatives: candidate table"] is fn.table
    png = export_image(four, tmp_path / "four.png", 900, 600)
    assert (QImage(str(png)).width(), QImage(str(png)).height()) == (900, 600)


def test_the_timeline_animation_grabs_the_four_views(qtbot, studio, tmp_path):
    w, tools = studio
    job = tools.export_timeline(tmp_path / "t.gif", size=(200, 150), dialog=False)
    assert job is not None
    try:
        assert job.source.widget is w.context.parts.embedding.grid
    finally:
        with qtbot.waitSignal(job.finished, timeout=120_000, raising=False):
            pass


@pytest.mark.parametrize("size", [(400, 400), (220, 760), (1000, 260), (1600, 1000)])
@pytest.mark.parametrize("title_pt", [9, 26])  # presentation mode scales the titles up
def test_the_sphere_map_shows_its_whole_disk_at_any_shape(qtbot, size, title_pt):
    from app.embedding_tab.map_grid import MapGrid

    g = MapGrid(lambda r: str(r), use_gl=False)
    qtbot.addWidget(g)
    g.resize(*size)
    g.show()
    qtbot.waitExposed(g)
    for view, half in ((g.sphere_view, (2.0, 2.0)), (g.hammer_view, (2 ** 1.5, 2 ** 0.5))):
        pi = view.getPlotItem()
        pi.setTitle(pi.titleLabel.text, size=f"{title_pt}pt")
        qtbot.wait(10)
        (x0, x1), (y0, y1) = view.getViewBox().viewRange()
        assert x0 <= -half[0] and x1 >= half[0] and y0 <= -half[1] and y1 >= half[1], (size, title_pt)
