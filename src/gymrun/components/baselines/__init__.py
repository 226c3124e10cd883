"""Non-learning agents that solve Gymnasium's tasks: exact dynamic programming on a
transition table, LQR, a sampling planner over the simulator's state, and scripted
controllers chosen by environment ID; `SHIPPED` names the best of them for each task.

Agents marked ``privileged = True`` read what an agent in the environment could not see
(``env.unwrapped``: the transition table, the simulator's state); results say so.
"""

from __future__ import annotations

from gymrun.components.baselines.dynamic_programming import DynamicProgramming
from gymrun.components.baselines.heuristic import Heuristic
from gymrun.components.baselines.lqr import LQR
from gymrun.components.baselines.planner import Planner
from gymrun.components.baselines.shipped import SHIPPED, Baseline

__all__ = ["LQR", "SHIPPED", "Baseline", "DynamicProgramming", "Heuristic", "Planner"]
