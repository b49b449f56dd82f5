"""Explore a large corpus with a model: map, search, neighbours, clusters (issue 16)."""
