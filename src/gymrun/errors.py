"""gymrun's exceptions (one base class, each with its exit status) and the exit statuses."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class ExitStatus(IntEnum):
    """What ``gymrun`` exits with; 128 + N for a run stopped by signal N."""

    OK = 0
    FAILURE = 1  # a fault during a run: the env or the agent raised
    BAD_INPUT = 2  # the config, the command line, an unknown name
    EXPECTATION_FAILED = 3  # the run completed, and an --expect was not met
    HANGUP = 129  # SIGHUP: the terminal closed
    INTERRUPTED = 130  # SIGINT: Ctrl-C
    TERMINATED = 143  # SIGTERM: kill, timeout, a batch scheduler

    @classmethod
    def of_signal(cls, signum: int) -> ExitStatus:
        """The status of a command stopped by signal `signum` (one gymrun stops on).

        >>> import signal
        >>> ExitStatus.of_signal(signal.SIGTERM)
        <ExitStatus.TERMINATED: 143>
        """
        return cls(128 + signum)


class GymrunError(Exception):
    """Base of every error gymrun raises on purpose; the CLI prints it without a traceback.

    `key` is the config key the error is about (``("agent", "action")``), when it is about
    one: a run places it at the file and line the value stands on, or the option that gave
    it (`gymrun.config.places`).

    >>> str(GymrunError("5 is not an action of Discrete(2)", key=("agent", "action")))
    'agent.action: 5 is not an action of Discrete(2)'
    """

    exit_code = ExitStatus.BAD_INPUT
    problem: Problem | None = None  # once placed: the problem it tells, at its place

    def __init__(self, *args: object, key: tuple[str | int, ...] | None = None) -> None:
        super().__init__(*args)
        self.key = key

    @property
    def detail(self) -> str:
        """What is wrong, without the key it is about."""
        return super().__str__()

    def __str__(self) -> str:
        if self.key:
            return f"{'.'.join(str(part) for part in self.key)}: {self.detail}"
        return self.detail


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config: where it is (`source`, `line`, `loc`) and what is wrong."""

    source: str
    loc: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where} {self.loc}: {self.message}" if self.loc else f"{where}: {self.message}"


class ConfigError(GymrunError):
    """A config that cannot run; holds one `Problem` per mistake, all found in one pass."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(GymrunError):
    """A command line whose options cannot go together, or say nothing that can be done."""


class UnknownNameError(GymrunError):
    """A name gymrun does not know (an environment, a wrapper, an agent, a vector mode);
    the message suggests the near miss."""


class ImportTargetError(GymrunError):
    """A ``module:attr`` string that does not name an importable object of the right kind."""


class NotInstalledError(GymrunError):
    """What was asked for needs a package that is not installed; the message says the
    command that installs it."""


class RecordError(GymrunError):
    """A recording, or a file of one, that is not what gymrun writes (damaged, a link, a
    FIFO, too large), or a directory a run cannot record into; the message names the file
    (and line) and what is wrong with it."""


class ResumeRefused(RecordError):
    """A stopped run or sweep that cannot go on with the numbers it would have had: the
    message says why (other settings, other code, episodes that are not its own)."""


class PilotError(GymrunError):
    """Pilot runs that cannot plan a comparison (``gymrun plan-seeds``): none completed, a
    group with too few to measure a spread, more than two groups."""


class ClusterError(GymrunError):
    """A Dask cluster that cannot play the work: a wrong address, no scheduler answering,
    no worker, a worker running other versions."""


class EnvError(GymrunError):
    """An environment that cannot be made, or cannot do what the config asks of it (render
    frames, run in vector form)."""


class WrapperError(GymrunError):
    """A wrapper that cannot be built or cannot wrap this environment."""


class AgentError(GymrunError):
    """An agent that cannot be built for this environment (wrong options, wrong spaces)."""


class FaultError(GymrunError):
    """Something went wrong during a run that is not the config's fault (a full disk, a
    dead worker process, a bug)."""

    exit_code = ExitStatus.FAILURE


class ActionOutsideSpace(Exception):
    """An agent chose an action its environment's action space does not contain (the loop
    turns it into a `RolloutError` naming the episode and step)."""


class InfoValueError(Exception):
    """A step's info held, under a key a metric reads, a value that is not a number or a
    boolean (the loop turns it into a `RolloutError` naming the episode and step)."""


class RolloutError(GymrunError):
    """The environment or the agent raised while an episode was running."""

    exit_code = ExitStatus.FAILURE

    def __init__(self, message: str, *, episode: int, step: int) -> None:
        self.episode = episode
        self.step = step
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only fields: tell pickle (worker processes) how to rebuild the error
        return (_rollout_error, (str(self), self.episode, self.step))


def _rollout_error(message: str, episode: int, step: int) -> RolloutError:
    return RolloutError(message, episode=episode, step=step)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix for a near-miss name, or ``""``.

    >>> did_you_mean("epsilon_randm", ["epsilon_random", "scale_reward"])
    "; did you mean 'epsilon_random'?"
    >>> did_you_mean("zzz", ["epsilon_random"])
    ''
    """
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    return f"; did you mean '{close[0]}'?" if close else ""


def described(error: BaseException) -> str:
    """What stopped a run or a command, in one line: gymrun's own errors say it themselves;
    any other exception is named, with the first line of its message if it has one.

    >>> described(ValueError("no")), described(KeyboardInterrupt()), described(MemoryError())[:28]
    ('ValueError: no', 'KeyboardInterrupt', 'MemoryError: out of memory (')
    """
    if isinstance(error, GymrunError):
        return str(error)
    if isinstance(error, MemoryError):
        said = "out of memory (a limit on it, such as ulimit -v or a job's, may be too low)"
    else:
        said = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {said}" if said else type(error).__name__
