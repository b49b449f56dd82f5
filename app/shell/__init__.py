"""The window around everything: the main window's layout, the studio context handed to
panels and tools, the run bar, settings and the entry helpers."""
