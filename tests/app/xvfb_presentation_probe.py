"""Run under Xvfb by test_presentation.py: the real studio on run A in presentation mode
(F11's mode: the embedding view, then the training view), then the comparison window of
runs A and B at their second common step; saves ``presentation-embedding.png``,
``presentation-training.png`` and ``compare.png`` and reports the window size.

usage: xvfb_presentation_probe.py RUN_A RUN_B OUT_DIR TMP_DIR
"""

from __future__ import annotations

import sys

from xvfb_common import finish, open_and_wait, studio, wait


def main() -> int:
    run_a, run_b, out, tmp = sys.argv[1:5]
    app, w = studio(tmp)
    w.embedding.start_warmup()
    open_and_wait(app, w, run_a)
    tools = w.tools
    tools.presentation.enter()
    tools.presentation.show_view(2)
    wait(app, 90, lambda: w.embedding.drawn_index is not None and bool(w.embedding.umap))
    wait(app, 1.0)
    size = [w.width(), w.height()]
    w.grab().save(out + "/presentation-embedding.png")
    tools.presentation.show_view(1)
    wait(app, 1.0)
    w.grab().save(out + "/presentation-training.png")
    tools.presentation.leave()
    cw = tools.open_compare([run_a, run_b], ["t = 0.05", "t = 1"])
    cw.resize(1600, 1000)
    wait(app, 60, lambda: len(cw.runs) == 2 and cw.drawn_position is not None)
    cw.set_step(int(cw.union_steps[1] if len(cw.union_steps) > 1 else cw.step))
    wait(app, 30, lambda: cw.drawn_position == cw.position)
    wait(app, 1.0)
    cw.grab().save(out + "/compare.png")
    finish(app, w, {"size": size})


if __name__ == "__main__":
    sys.exit(main())
