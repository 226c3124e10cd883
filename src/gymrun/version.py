"""gymrun's version, as its installed package's metadata says (pyproject.toml's)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gymrun")
except PackageNotFoundError:  # the source tree itself, not installed
    __version__ = "0+unknown"
