"""The rotatable 3D sphere (pyqtgraph.opengl), and the check for whether it can run.

:func:`gl_available` decides once per process whether an OpenGL view may be built:
no when ``SIMCSE_STUDIO_NO_GL`` is set, when PyOpenGL or ``pyqtgraph.opengl`` cannot be
imported, or when Qt cannot create and make current an OpenGL context (the offscreen
platform, a remote session without GL). The embedding views then put a 2D equal-area
map in the sphere's place instead, never crashing.

Also no, by default, when the context is software rendering (Mesa's llvmpipe or
softpipe, SwiftShader, Microsoft's GDI renderer: a VM, a remote X session, Xvfb): one
OpenGL widget makes Qt compose the whole window through OpenGL, which in software made
every redraw of the studio 3-4x slower (bench/views_fps.py under Xvfb: whole embedding
tab 13.5 frames/s with the 3D sphere, 40.7 with the 2D map). ``SIMCSE_STUDIO_GL=1``
builds the 3D sphere anyway.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from app.i18n import tr

_GL_STATE: tuple[bool, str] | None = None


SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swiftshader", "software rasterizer", "gdi generic", "swrast")


def is_software_renderer(renderer: str) -> bool:
    """Whether a GL_RENDERER string names a CPU rasteriser rather than a GPU."""
    r = renderer.casefold()
    return any(name in r for name in SOFTWARE_RENDERERS)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0")


def gl_available(force_check: bool = False) -> tuple[bool, str]:
    """(usable, reason when not). Needs a QGuiApplication."""
    global _GL_STATE
    if _flag("SIMCSE_STUDIO_NO_GL"):
        return False, tr("SIMCSE_STUDIO_NO_GL is set")
    if _GL_STATE is not None and not force_check:
        return _GL_STATE
    try:
        import OpenGL.GL  # noqa: F401
        import pyqtgraph.opengl  # noqa: F401
        from PySide6.QtGui import QOffscreenSurface, QOpenGLContext

        ctx = QOpenGLContext()
        if not ctx.create():
            _GL_STATE = (False, tr("no OpenGL context on this display"))
        else:
            surf = QOffscreenSurface()
            surf.create()
            if not ctx.makeCurrent(surf):
                _GL_STATE = (False, tr("the OpenGL context cannot be made current"))
            else:
                renderer = str(ctx.functions().glGetString(0x1F01) or "")  # GL_RENDERER
                ctx.doneCurrent()
                if is_software_renderer(renderer) and not _flag("SIMCSE_STUDIO_GL"):
                    _GL_STATE = (False, tr("software OpenGL ({renderer}) would slow every redraw; SIMCSE_STUDIO_GL=1 "
                                           "turns the 3D sphere on").format(renderer=renderer.split(" (")[0]))
                else:
                    _GL_STATE = (True, "")
    except Exception as e:  # ImportError, a broken driver...
        _GL_STATE = (False, tr("OpenGL unavailable ({error})").format(error=f"{type(e).__name__}: {e}"))
    return _GL_STATE


def make_sphere_view(text_of: Callable[[int], str]):  # -> sphere_gl.Sphere3D
    """Build the GL sphere view (only call after :func:`gl_available` said yes): the
    module holding it imports ``pyqtgraph.opengl``, so it is imported here, late."""
    from app.embedding_tab.sphere_gl import Sphere3D

    return Sphere3D(text_of)
