"""A Linux desktop without Qt's xcb libraries gets the one line that installs them
(issue 14, defect 11), instead of Qt's abort."""

from __future__ import annotations


from app.main import main
from app.shell import platform_check as pc

LDD = """\
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/libQt6XcbQpa.so.6 (0x00007f11)
\tlibxcb-cursor.so.0 => not found
\tlibxkbcommon-x11.so.0 => not found
\tlibxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x00007f11)
\tlibxcb-foo-2.so.3 => not found
"""


def test_missing_libraries_are_read_from_ldd(tmp_path):
    plugin = tmp_path / "libqxcb.so"
    plugin.write_bytes(b"")
    missing = pc.missing_xcb_libraries(plugin, ldd=lambda _p: LDD)
    assert missing == ["libxcb-cursor.so.0", "libxcb-foo-2.so.3", "libxkbcommon-x11.so.0"]
    hint = pc.install_hint(missing)
    assert "sudo apt-get install libxcb-cursor0 libxcb-foo-2-3 libxkbcommon-x11-0" in hint
    assert "sudo dnf install libxkbcommon-x11 xcb-util-cursor" in hint
    assert "libxcb-cursor.so.0" in hint.splitlines()[0]


def test_this_machine_has_what_the_plugin_needs():
    plugin = pc.xcb_plugin()
    assert plugin is not None and plugin.is_file()
    assert pc.missing_xcb_libraries(plugin) == []  # .ci/run installs them


def test_the_studio_says_it_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(pc, "missing_xcb_libraries", lambda: ["libxcb-cursor.so.0"])
    # main() sets NUMBA_NUM_THREADS for the studio's process; in the test process numba's
    # threads already run, and a changed value makes numba raise at its next config reload
    monkeypatch.setattr("app.main.configure_threads_env", lambda: None)
    assert main(["--reset"]) == 2
    err = capsys.readouterr().err
    assert "cannot open a window" in err and "apt-get install libxcb-cursor0" in err


def test_no_check_off_linux_or_on_another_platform(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert not pc.needs_xcb()
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    assert not pc.needs_xcb()
