"""Bundled resources: the demo corpus, run presets and icons (data files only)."""
