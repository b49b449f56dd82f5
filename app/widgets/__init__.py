"""Small reusable Qt and pyqtgraph helpers shared by the tabs, panels and tools (no
studio state): plot titles that fit their plot."""
