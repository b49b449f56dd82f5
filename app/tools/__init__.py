"""Tools on top of the studio: presets, run comparison, exports, presentation mode and
session files. Each gets the studio context; menus are added through it."""
