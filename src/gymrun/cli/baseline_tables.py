"""The table of ``gymrun baselines`` (and of ``gymrun show`` on its directory)."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from gymrun.cli.fitted import FittedTable
from gymrun.numbers import counted

_STYLES = {"reached on average": "green", "not reached on average": "red"}


def _verdict(value: str | None) -> Text:
    return Text("—") if value is None else Text(value, _STYLES.get(value, "yellow"))


def baselines_table(document: dict[str, Any]) -> Table:
    """One row per task: threshold, random agent, shipped agent, solved, optimum, time.

    What a row needs stays at any width: the task, its threshold, the shipped agent and its
    score and verdict, and the random agent's score where a task has no shipped agent (it
    is then the task's only score); the random agent's score elsewhere, the optimum and the
    time go first, in that order."""
    from gymrun.baselines import interval, verdict
    from gymrun.numbers import figure

    title = (
        f"Baselines: {counted(document['episodes'], 'episode')} each, seed {document['seed']}; "
        "the mean over all episodes against the threshold: within noise when its 95% "
        "interval holds it"
    )
    table = FittedTable(title=title, title_justify="left")
    unshipped = any(task["baseline"] is None for task in document["tasks"])
    table.add_column("environment", no_wrap=True)
    table.add_column("threshold", justify="right", no_wrap=True, short="goal")
    table.add_column(
        "random [95% CI]", justify="right", no_wrap=True, drop=None if unshipped else 2
    )
    table.add_column("agent")
    table.add_column("mean", justify="right", no_wrap=True)
    table.add_column("95% CI", justify="left", no_wrap=True, drop=1)
    table.add_column("reached on average", justify="center")
    table.add_column("optimum", justify="right", drop=3)
    table.add_column("s/episode", justify="right", no_wrap=True, drop=4)
    for task in document["tasks"]:
        shipped = task["baseline"]
        optimum = Text(figure(task["optimum"]))
        if task["attainable"] is False:
            optimum.append(" unattainable", "yellow")
        seconds = (shipped or task["random"])["seconds_per_episode"]
        if shipped is None:
            agent, mean, ci, solved = Text("—"), Text("—"), "—", Text("—")
        else:
            agent = Text(shipped["agent"])
            if shipped["privileged"]:
                agent.append(" (privileged)", "dim")
            # the mean rounded by its interval, with digits enough to place it by the threshold
            shown = interval(shipped, task["threshold"])
            value, _, ci = shown.partition(" ")
            mean, ci = Text(value), ci or "—"
            solved = _verdict(verdict(task, shipped))
            if shipped["status"] != "completed":
                mean.append(f" {shipped['status']}", "red")
        table.add_row(
            task["env_id"],
            figure(task["threshold"]),
            interval(task["random"]),
            agent,
            mean,
            ci,
            solved,
            optimum,
            "—" if seconds is None else f"{seconds:.3g}",
        )
    return table


def baselines_notes(document: dict[str, Any]) -> list[str]:
    """What the table leaves out: tasks skipped, step caps set, runs that failed."""
    notes = []
    for task in document["tasks"]:
        if task["max_steps"] is not None:
            notes.append(
                f"{task['env_id']} sets no step limit: episodes were capped at "
                f"{task['max_steps']} steps"
            )
        for score in (task["random"], task["baseline"]):
            if score is not None and score["error"]:
                notes.append(f"{task['env_id']}, agent {score['agent']}: {score['error']}")
    for skipped in document["skipped"]:
        notes.append(f"skipped {skipped['env_id']}: {skipped['reason']}")
    return notes
