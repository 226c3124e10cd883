"""Count the registered environments that run here, by family, and list those that cannot
(with the one line gymrun prints for each): the figures of docs/guide/environments.md.

    .venv/bin/python scripts/registry_counts.py
"""

from __future__ import annotations

import warnings
from collections import Counter

from gymrun.components.catalog import list_envs
from gymrun.diagnostics.inspection import describe_env
from gymrun.errors import GymrunError


def main() -> None:
    warnings.filterwarnings("ignore")
    ran: Counter[str] = Counter()
    failed = []
    infos = list_envs()
    for info in infos:
        try:
            describe_env(info.id)
        except GymrunError as exc:
            failed.append(f"{info.id}: {exc}")
        else:
            ran[info.family] += 1
    print(f"{len(infos)} registered, {sum(ran.values())} ran: {dict(ran)}")
    print(f"{len(failed)} failed cleanly:")
    for line in failed:
        print(f"  {line}")


if __name__ == "__main__":
    main()
