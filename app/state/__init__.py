"""The studio's state, as plain data with change events (no widgets).

- :mod:`app.state.run_model`: :class:`RunModel`, every snapshot of the shown run and the
  growing series the plots draw (no Qt).
- :mod:`app.state.view_state`: :class:`ViewState`, what the views show (snapshot, colour,
  sphere method, UMAP cadence...), evented, saved and restored by sessions (no Qt).
- :mod:`app.state.run_corpus`: which sentences a run uses, and probe row of a corpus id.
- :mod:`app.state.selection`: the selection shared by every view and panel (corpus ids).
"""
