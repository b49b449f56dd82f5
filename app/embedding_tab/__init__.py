"""The "Embedding space" tab: where the probe embeddings are seen moving on the sphere.

- :mod:`~app.embedding_tab.tab`: :class:`EmbeddingTab`, the widget (layout, drawing); it
  reads and writes the shared :class:`~app.state.view_state.ViewState`.
- :mod:`~app.embedding_tab.controller`: caches, scheduling and worker threads; jobs get
  plain data captured on the GUI thread.
- :mod:`~app.embedding_tab.search`: probe and corpus search, typed sentences.
- :mod:`~app.embedding_tab.geometry`: the Qt-free projections, colourings, neighbours.
- Views and widgets: :mod:`map_view` (2D maps), :mod:`sphere3d` / :mod:`sphere_gl` (the
  3D sphere and whether OpenGL may run), :mod:`raster_scatter`, :mod:`widgets` (timeline,
  legend, neighbour panel), :mod:`neighbours`, :mod:`drawing`, :mod:`job_thread`.
"""

from app.embedding_tab.sphere3d import gl_available
from app.embedding_tab.tab import EmbeddingTab

__all__ = ["EmbeddingTab", "gl_available"]
