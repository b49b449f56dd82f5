"""The studio's embedding views: sphere (3D and Hammer map), S1 circle, UMAP, the
timeline and the neighbour panel, all driven by one :class:`EmbeddingViews`."""

from .embedding import EmbeddingViews
from .sphere3d import gl_available

__all__ = ["EmbeddingViews", "gl_available"]
