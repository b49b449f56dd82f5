"""The studio's embedding views: sphere (3D and Hammer map), S1 circle, UMAP, the
timeline and the neighbour panel, all driven by one :class:`EmbeddingViews`."""

from app.embedding_tab.tab import EmbeddingViews
from app.embedding_tab.sphere3d import gl_available

__all__ = ["EmbeddingViews", "gl_available"]
