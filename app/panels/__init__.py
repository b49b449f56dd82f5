"""Dock panels: the run setup, the temperature lens and the false-negative panel. Each
takes the studio context and follows the run model; none knows the main window."""
