"""``code/``: a copy of the user's own modules a run imported, so its ``config.yaml``
reproduces it from anywhere.

A run that named ``my_agents:Greedy`` ran the source of ``my_agents`` that was beside its
config (or in the working directory) then; ``meta.json`` records its hash, and ``code/``
holds exactly those files (``code/my_agents.py``, or ``code/my_agents/...`` for a package).
Installed packages are never copied: they are not the user's code, and ``meta.json`` names
their versions. Running the run's ``config.yaml`` again takes the modules from ``code/``,
after checking that they still hash to what ``meta.json`` records.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from gymrun.components.user_code import UserModule, check_path, install
from gymrun.errors import RecordError
from gymrun.records import files
from gymrun.records.directory import is_record_dir
from gymrun.records.layout import CODE_DIR, CONFIG_FILE, META_FILE
from gymrun.records.reading import read_meta

CODE_LIMIT = 10_000_000  # one module's file: a user's source, not data


def write_code(directory: Path, modules: Iterable[UserModule]) -> None:
    """Copy `modules` into ``directory/code/``, each file new (never written through a
    link, nor over a file that is there)."""
    for module in modules:
        for path, content in module.files:
            check_path(module.name, path)
            target = directory / CODE_DIR / path
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            with os.fdopen(os.open(target, flags, 0o644), "wb") as file:
                file.write(content)


def recorded_code(directory: Path) -> list[UserModule]:
    """The modules copied into the run directory `directory` (none when it has no
    ``code/``: a run of no module of the user's, or one recorded before runs kept a copy),
    each checked to be the code the run ran: a `RecordError` when a copy is missing or its
    files do not hash to what ``meta.json`` records."""
    if not os.path.lexists(directory / CODE_DIR):
        return []
    if not files.is_regular(directory, META_FILE):
        raise RecordError(f"{directory}: has {CODE_DIR}/ but no {META_FILE} saying what it holds")
    recorded = read_meta(directory).get("code")
    if not isinstance(recorded, dict):
        raise RecordError(f"{directory / META_FILE}: records no hashes of the code in {CODE_DIR}/")
    modules = []
    for name, sha256 in sorted(recorded.items()):
        module = _read_module(directory, str(name))
        if module.sha256 != sha256:
            copy = [path for path, _ in module.files] == [f"{name}.py"]
            where = directory / CODE_DIR / (f"{name}.py" if copy else name)
            raise RecordError(
                f"{where}: not the code the run ran (it hashes to {module.sha256[:19]}..., "
                f"{META_FILE} records {str(sha256)[:19]}...); it is not run"
            )
        modules.append(module)
    return modules


def use_recorded_code(config_path: Path) -> list[str]:
    """When `config_path` is the ``config.yaml`` of a run directory with ``code/``, make
    the modules copied there the ones its config imports (checked, see `recorded_code`);
    returns their names."""
    if config_path.name != CONFIG_FILE or not is_record_dir(config_path.parent):
        return []  # a config of the user's own, beside their code/ perhaps
    modules = recorded_code(config_path.parent)
    install(modules)
    return [module.name for module in modules]


def _read_module(directory: Path, name: str) -> UserModule:
    code = directory / CODE_DIR
    where = code / name
    if files.is_regular(directory, CODE_DIR, f"{name}.py"):
        return UserModule(name, ((f"{name}.py", _read(code, f"{name}.py")),))
    try:
        kind = where.lstat().st_mode
    except OSError:
        raise RecordError(f"{code}: holds no copy of module {name}, which the run ran") from None
    if not stat.S_ISDIR(kind):
        raise RecordError(f"{where}: not a directory, and not {name}.py (a link is never read)")
    paths = []
    for folder, subfolders, names in os.walk(where):  # links to folders are not followed
        subfolders[:] = [entry for entry in subfolders if entry != "__pycache__"]
        paths += [Path(folder) / entry for entry in names if entry.endswith(".py")]
    found = []
    for path in sorted(paths):  # in the order `user_code.snapshot` read them
        relative = path.relative_to(code).as_posix()
        found.append((relative, _read(code, relative)))
    return UserModule(name, tuple(found))


def _read(code: Path, relative: str) -> bytes:
    """A copied file, read as every file of a record is (no link followed, bounded)."""
    with files.open_record(code, *relative.split("/")) as file:
        return files.read_whole(file, CODE_LIMIT, code / relative)
