"""A duel's outcome in words, from its JSON form (``duel.json``): what the duel prints, the
terminal shows and the board's duel pages say."""

from __future__ import annotations

from typing import Any

from gymrun.numbers import figure

SIDES = ("A", "B")


def side_name(document: dict[str, Any], side: str) -> str:
    """The name of side ``A`` or ``B`` of a duel in its JSON form (its config's name)."""
    return str(document["duel"][side.lower()].get("name") or "experiment")


def verdict(document: dict[str, Any]) -> str:
    """What a duel decided, in words, from its JSON form (``duel.json``).

    >>> duel = {"a": {"name": "random"}, "b": {"name": "balance"}}
    >>> verdict({"decision": "B", "seeds": 8, "status": "completed", "duel": duel})
    'B (balance) scores higher: decided after 8 seeds of each'
    >>> verdict({"decision": "none", "seeds": 20, "status": "completed", "duel": duel})
    'no difference detectable within 20 seeds of each'
    >>> verdict({"decision": None, "seeds": 4, "status": "interrupted", "duel": duel})
    'undecided: interrupted after 4 seeds of each'
    """
    decision, seeds = document["decision"], seeds_of_each(document["seeds"])
    if decision in SIDES:
        name = side_name(document, decision)
        return f"{decision} ({name}) scores higher: decided after {seeds}"
    if decision == "none":
        return f"no difference detectable within {seeds}"
    # running as recorded: still going or killed, which its reader tells by the lock (see
    # `records.liveness.going`) where it can
    status = {"running": "still going", "unfinished": "still going, or killed"}.get(
        document["status"], document["status"]
    )
    return f"undecided: {status} after {seeds}"


def seeds_of_each(count: int) -> str:
    """``8 seeds of each``, ``1 seed of each``."""
    return f"{count} seed{'' if count == 1 else 's'} of each"


def guarantee(alpha: float) -> str:
    """The error rate a duel's decision comes with, in words.

    >>> guarantee(0.01).split(" (")[0]
    'two configs that score alike are called different at most 1% of the time'
    """
    return (
        f"two configs that score alike are called different at most {alpha * 100:.4g}% of the "
        f"time (alpha {figure(alpha)}, two-sided, over every round)"
    )
