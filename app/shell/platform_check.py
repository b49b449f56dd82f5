"""Before the first window: can Qt's xcb platform plugin load on this Linux desktop?

pip installs Qt but not the X11 libraries its xcb plugin links against (libxcb-cursor0
and friends). Without them Qt aborts the process with a long plugin message that does
not say what to install. :func:`missing_xcb_libraries` asks ``ldd`` which of the
plugin's libraries are missing, and :func:`install_hint` turns them into the one
apt-get / dnf line that fixes it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

# soname -> (Debian / Ubuntu package, Fedora package) for what Qt 6's xcb plugin needs
PACKAGES: dict[str, tuple[str, str]] = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
}

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.M)


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the installed PySide6 (None when there is none)."""
    try:
        import PySide6
    except ImportError:
        return None
    p = Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return p if p.is_file() else None


def _ldd(path: Path) -> str:
    exe = shutil.which("ldd")
    if exe is None:
        return ""
    try:
        return subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def missing_xcb_libraries(plugin: Path | None = None, ldd: Callable[[Path], str] = _ldd) -> list[str]:
    """Sonames the xcb plugin (and what it links) needs but the system lacks."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    return sorted(set(_NOT_FOUND.findall(ldd(plugin))))


def _debian_name(soname: str) -> str:
    """libfoo.so.1 -> libfoo1, libfoo-2.so.0 -> libfoo-2-0 (Debian's naming rule)."""
    m = re.match(r"(lib.+?)\.so\.(\d+)", soname)
    if not m:
        return soname
    name, major = m.groups()
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def install_hint(missing: list[str]) -> str:
    """The message for a person: what is missing and the line that installs it."""
    deb = sorted({PACKAGES.get(s, (_debian_name(s), ""))[0] for s in missing})
    rpm = sorted({PACKAGES[s][1] for s in missing if s in PACKAGES})
    lines = [
        "simcse-studio: cannot open a window: Qt's xcb platform plugin needs system libraries "
        f"that are missing ({', '.join(missing)}). Install them, then start the studio again:",
        f"  sudo apt-get install {' '.join(deb)}      # Debian, Ubuntu",
    ]
    if rpm:
        lines.append(f"  sudo dnf install {' '.join(rpm)}      # Fedora")
    return "\n".join(lines)


def needs_xcb() -> bool:
    """Whether Qt will use the xcb plugin: Linux, an X display, no other platform asked."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    return sys.platform.startswith("linux") and bool(os.environ.get("DISPLAY")) and platform in ("", "xcb")


def check_platform() -> str | None:
    """The install hint when the window cannot open for want of libraries, else None."""
    if not needs_xcb():
        return None
    missing = missing_xcb_libraries()
    return install_hint(missing) if missing else None
