"""The OpenGL platform MuJoCo renders frames with (``MUJOCO_GL``), chosen once per process.

Gymnasium's MuJoCo envs render with the platform ``MUJOCO_GL`` names, and without it they try
GLFW, which needs a display: on a headless machine the first frame fails. So when the user
has not set ``MUJOCO_GL`` and there is no display, the first of EGL and OSMesa that works here
is chosen. Each is tried in a short subprocess, since a platform that fails cannot be swapped
out of a process once its OpenGL libraries are loaded; the choice goes into the environment
before any env renders, so that worker processes inherit it.
"""

from __future__ import annotations

import ctypes.util
import functools
import importlib.util
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any

from gymrun.errors import EnvError, NotInstalledError

HEADLESS = ("egl", "osmesa")  # tried in this order when there is no display
# the Debian packages that provide each platform's library
PACKAGES = {"egl": "libegl1", "osmesa": "libosmesa6", "glfw": "libglfw3"}
_LIBRARIES = {"egl": "EGL", "osmesa": "OSMesa"}
PROBE_SECONDS = 60  # a cold start of mujoco and PyOpenGL on a busy machine takes seconds

# Makes a context on the platform MUJOCO_GL names and a MuJoCo render context in it, as
# Gymnasium's renderer does; prints why not, on one line, if it cannot.
_PROBE = """
import importlib, os, sys
try:
    import mujoco
    platform = importlib.import_module("mujoco." + os.environ["MUJOCO_GL"])
    context = platform.GLContext(16, 16)
    context.make_current()
    model = mujoco.MjModel.from_xml_string("<mujoco/>")
    mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100)
except BaseException as exc:
    print(f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
    sys.exit(1)
"""


@dataclass(frozen=True)
class GLPlatform:
    """The platform MuJoCo renders with here, and where that choice came from.

    `name` is the ``MUJOCO_GL`` value (None when none works); `source` is ``MUJOCO_GL`` (the
    user's own), ``display`` (left to MuJoCo, which uses the display), ``chosen`` (no
    display: the first headless platform that works) or ``not installed`` (no MuJoCo here);
    `problem` says why it does not work.
    """

    name: str | None
    source: str
    problem: str | None = None

    @property
    def works(self) -> bool:
        return self.problem is None

    @property
    def advice(self) -> str | None:
        """What to do when it does not work: the Debian packages to install, or the
        setting to change."""
        if self.works or self.source == "not installed":
            return None
        if self.source == "MUJOCO_GL":
            package = PACKAGES.get(str(self.name).lower())
            install = f"install {package}, or " if package else ""
            return f"{install}unset MUJOCO_GL to let gymrun choose"
        return f"install {' or '.join(PACKAGES[name] for name in HEADLESS)}"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "works": self.works, "advice": self.advice}

    def error(self, what: str) -> EnvError | NotInstalledError:
        """The one-line error for `what` (``record.video of HalfCheetah-v5``) when MuJoCo
        cannot render here, saying what to install.

        >>> print(GLPlatform("osmesa", "MUJOCO_GL", "libOSMesa is not installed").error("video"))
        video: MuJoCo cannot render with MUJOCO_GL=osmesa (libOSMesa is not installed); \
install libosmesa6, or unset MUJOCO_GL to let gymrun choose
        """
        if self.source == "MUJOCO_GL":
            return EnvError(
                f"{what}: MuJoCo cannot render with MUJOCO_GL={self.name} ({self.problem}); "
                f"{self.advice}"
            )
        return NotInstalledError(
            f"{what}: MuJoCo has no OpenGL platform to render with here (no display; "
            f"{self.problem}); {self.advice}"
        )


def display() -> str | None:
    """The display this process could open windows on, if any."""
    return os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or None


@functools.cache
def mujoco_gl() -> GLPlatform:
    """The OpenGL platform MuJoCo renders with in this process: the user's ``MUJOCO_GL``
    (tried, to say early if it cannot work), MuJoCo's own choice when there is a display, or
    else the first headless platform that works. Decided once per process; the first call
    costs a second or two for each platform tried.

    >>> mujoco_gl().source in ("MUJOCO_GL", "display", "chosen")
    True
    """
    if importlib.util.find_spec("mujoco") is None:
        return GLPlatform(None, "not installed", "MuJoCo is not installed")
    user = os.environ.get("MUJOCO_GL", "").strip()
    if user:
        return GLPlatform(user, "MUJOCO_GL", probe(user))
    if display() is not None:
        return GLPlatform(None, "display")
    # a user's PYOPENGL_PLATFORM fixes which library PyOpenGL loads: only that one can work
    wanted = os.environ.get("PYOPENGL_PLATFORM", "").strip().lower()
    candidates = [name for name in HEADLESS if not wanted or name == wanted] or list(HEADLESS)
    problems = []
    for name in candidates:
        problem = probe(name)
        if problem is None:
            return GLPlatform(name, "chosen")
        problems.append(f"{name}: {problem}")
    if wanted:
        problems.append(f"PYOPENGL_PLATFORM is {wanted}")
    return GLPlatform(None, "chosen", "; ".join(problems))


def probe(name: str) -> str | None:
    """Why MuJoCo cannot render with ``MUJOCO_GL=name`` here, or None when it can.

    >>> probe("vulkan")
    "Gymnasium's MuJoCo envs render with glfw, egl or osmesa"
    """
    name = name.lower()
    if name not in PACKAGES:
        return "Gymnasium's MuJoCo envs render with glfw, egl or osmesa"
    if name == "glfw" and display() is None:
        return "GLFW opens a window, and there is no display"
    library = _LIBRARIES.get(name)
    if library is not None and ctypes.util.find_library(library) is None:
        return f"lib{library} is not installed"
    env = {**os.environ, "MUJOCO_GL": name}
    if name in HEADLESS:
        env.setdefault("PYOPENGL_PLATFORM", name)
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=PROBE_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"no context after {PROBE_SECONDS} s"
    if done.returncode == 0:
        return None
    lines = done.stderr.strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def use_mujoco_gl(what: str) -> str | None:
    """Make sure MuJoCo can render frames in this process and the ones it starts, before an
    env is made: the platform chosen (see `mujoco_gl`) is put in ``MUJOCO_GL`` and
    ``PYOPENGL_PLATFORM`` unless the user set them. Returns the platform's name (None: the
    display's default); raises the one-line error naming `what` when none works.
    """
    platform = mujoco_gl()
    if platform.source == "not installed":
        return None  # making the env says what to install
    if not platform.works:
        raise platform.error(what)
    export(platform.name)
    return platform.name


def export(name: str | None) -> None:
    """Put platform `name` in this process's environment, where the user set none."""
    if name is None:
        return
    os.environ.setdefault("MUJOCO_GL", name)
    if name in HEADLESS:
        os.environ.setdefault("PYOPENGL_PLATFORM", name)
