"""Linear-quadratic regulators: MuJoCo tasks linearised by MuJoCo itself, and the
classic-control pendulums by their equations."""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec

from gymrun.components.baselines.environment import env_id, is_users, listed, unsupported
from gymrun.errors import AgentError

RICCATI_SWEEPS = 100_000
RICCATI_TOLERANCE = 1e-10


def lqr_gain(a: np.ndarray, b: np.ndarray, q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The gain K of the infinite-horizon discrete LQR (``u = -K x``), by iterating the
    Riccati equation until it stands still.

    >>> lqr_gain(np.eye(1), np.eye(1), np.eye(1), np.eye(1)).round(3)  # x' = x + u
    array([[0.618]])
    """
    p = q.copy()
    for _ in range(RICCATI_SWEEPS):
        gain = np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)
        new = q + a.T @ p @ (a - b @ gain)
        if np.max(np.abs(new - p)) <= RICCATI_TOLERANCE * max(1.0, float(np.max(np.abs(p)))):
            return np.asarray(np.linalg.solve(r + b.T @ new @ b, b.T @ new @ a))
        p = new
    raise AgentError(
        "agent lqr: the Riccati equation did not converge (is the system stabilisable?)"
    )


class MujocoRegulator:
    """LQR about a MuJoCo env's initial pose at rest (upright, for the inverted pendulums).

    MuJoCo's ``mjd_transitionFD`` linearises one physics step; it does not take the RK4
    integrator these envs use, so it runs on a copy of the model integrated with Euler (the
    same linear map up to terms in the timestep squared). One env step is ``frame_skip``
    physics steps under the same control, so the map is composed that many times.
    """

    def __init__(self, env: gym.Env[Any, Any], control_cost: float) -> None:
        import mujoco  # the mujoco extra; MuJoCo envs need it

        real: Any = env.unwrapped
        self.data = real.data
        self.target = np.array(real.init_qpos, dtype=float)
        model = copy.deepcopy(real.model)
        if model.nq != model.nv:
            raise AgentError(
                f"agent lqr: {env_id(env)} has free or ball joints; it balances hinges and slides"
            )
        model.opt.integrator = mujoco.mjtIntegrator.mjINT_EULER
        data = mujoco.MjData(model)
        data.qpos[:] = self.target
        mujoco.mj_forward(model, data)
        size = 2 * model.nv + model.na
        a, b = np.zeros((size, size)), np.zeros((size, model.nu))
        mujoco.mjd_transitionFD(model, data, 1e-6, True, a, b, None, None)
        a_step, b_step = np.eye(size), np.zeros_like(b)
        for _ in range(int(real.frame_skip)):
            a_step, b_step = a @ a_step, a @ b_step + b
        costs = control_cost * np.eye(model.nu)
        self.gain = lqr_gain(a_step, b_step, np.eye(size), costs)

    def control(self) -> np.ndarray:
        state = np.concatenate([self.data.qpos - self.target, self.data.qvel, self.data.act])
        control: np.ndarray = -self.gain @ state
        return control


def pendulum_gain() -> np.ndarray:
    """LQR gain of Pendulum-v1 about upright, from its equation
    ``θ'' = 3g/(2l) sin θ + 3/(ml²) u`` (g 10, m 1, l 1, dt 0.05, semi-implicit Euler) and
    its own reward weights: θ² + 0.1 θ'² + 0.001 u²."""
    dt, stiffness, drive = 0.05, 15.0, 3.0
    a = np.array([[1 + stiffness * dt * dt, dt], [stiffness * dt, 1.0]])
    b = np.array([[drive * dt * dt], [drive * dt]])
    return lqr_gain(a, b, np.diag([1.0, 0.1]), np.array([[0.001]]))


class PendulumSwingUp:
    """Pendulum-v1: pump energy (``u ∝ (E_upright - E) θ'``) until the pole is near the top,
    then hold it there with LQR; reads the observation only (cos θ, sin θ, θ').

    >>> PendulumSwingUp().act(np.array([1.0, 0.0, 0.0])).tolist() == [0.0]  # upright, at rest
    True
    """

    CAPTURE = 0.9  # cos θ above which LQR takes over
    PUMP = 1.0

    def __init__(self) -> None:
        self.gain = pendulum_gain()

    def act(self, observation: Any) -> np.ndarray:
        angle = float(np.arctan2(observation[1], observation[0]))
        speed = float(observation[2])
        if np.cos(angle) > self.CAPTURE:
            torque = -float(self.gain[0] @ np.array([angle, speed]))
        else:
            energy = speed * speed / 2 + 15.0 * np.cos(angle)
            torque = self.PUMP * (15.0 - energy) * speed
        return np.array([np.clip(torque, -2.0, 2.0)], dtype=np.float32)


def cartpole_gain(env: gym.Env[Any, Any]) -> np.ndarray:
    """LQR gain of CartPole about upright, from its equations linearised with the env's own
    masses, pole length, force and time step (state x, x', θ, θ'; control the force)."""
    pole: Any = env.unwrapped
    g, cart, mass, half = pole.gravity, pole.masscart, pole.masspole, pole.length
    total, dt = cart + mass, pole.tau
    # θ'' = (g θ - u / total) / (half (4/3 - mass / total)); x'' = (u - mass half θ'') / total
    denominator = half * (4.0 / 3.0 - mass / total)
    theta_theta, theta_u = g / denominator, -1.0 / (total * denominator)
    x_theta, x_u = -mass * half * theta_theta / total, (1 - mass * half * theta_u) / total
    continuous_a = np.array(
        [[0, 1, 0, 0], [0, 0, x_theta, 0], [0, 0, 0, 1], [0, 0, theta_theta, 0]], dtype=float
    )
    continuous_b = np.array([[0], [x_u], [0], [theta_u]], dtype=float)
    return lqr_gain(np.eye(4) + dt * continuous_a, dt * continuous_b, np.eye(4), np.eye(1))


class LQR:
    """A linear-quadratic regulator that holds a system at its upright (initial) pose.

    - MuJoCo envs (InvertedPendulum, InvertedDoublePendulum, ...): linearised by MuJoCo
      about the model's initial pose at rest; the state is read from the simulator
      (``env.unwrapped.data``: qpos, qvel), so this agent reads privileged state.
    - CartPole: its equations; the force's sign picks the push (bang-bang).
    - Pendulum-v1: its equations, with an energy-pumping swing-up until the pole is near
      the top (LQR alone cannot lift it from below).

    `control_cost` weighs the control against the state (identity) in MuJoCo's cost.

    >>> env = gym.make("InvertedPendulum-v5")
    >>> agent = LQR(env, env.action_space)
    >>> _ = env.reset(seed=0)
    >>> env.action_space.contains(agent.act(None))
    True
    """

    privileged = True
    actions_in_space = True
    # The tasks it holds upright (any version): LQR cannot stabilise a walker or a reacher
    # about its initial pose (the Riccati equation does not converge), nor free joints.
    TASKS = ("CartPole", "Pendulum", "InvertedPendulum", "InvertedDoublePendulum")

    @classmethod
    def env_problem(cls, spec: EnvSpec) -> str | None:
        """Why the env of `spec` is not one LQR can hold, or None (also for an env of the
        user's own, which building the agent checks).

        >>> print(LQR.env_problem(gym.spec("HalfCheetah-v5")))  # doctest: +ELLIPSIS
        agent lqr supports CartPole, Pendulum, ...; HalfCheetah-v5 is not one of them
        """
        if spec.name in cls.TASKS or is_users(spec):
            return None
        supports = f"{listed(cls.TASKS)} (any version), and MuJoCo envs of your own"
        return unsupported("lqr", spec, supports)

    def __init__(
        self, env: gym.Env[Any, Any], action_space: gym.Space[Any], control_cost: float = 0.1
    ) -> None:
        name = env_id(env)
        self.space = action_space
        self._act: Any
        if hasattr(env.unwrapped, "frame_skip") and hasattr(env.unwrapped, "model"):
            if not isinstance(action_space, gym.spaces.Box):
                raise AgentError(f"agent lqr needs Box actions; {name} has {action_space}")
            regulator = MujocoRegulator(env, control_cost)
            low, high = action_space.low, action_space.high
            self._act = lambda _: np.clip(regulator.control(), low, high).astype(action_space.dtype)
        elif name.startswith("CartPole-"):
            gain = cartpole_gain(env)[0]
            self._act = lambda observation: int(-float(gain @ observation) > 0.0)
        elif name.startswith("Pendulum-"):
            self._act = PendulumSwingUp().act
        else:
            raise AgentError(
                f"agent lqr balances MuJoCo envs, CartPole and Pendulum; {name} is none of them"
            )

    def act(self, observation: Any) -> Any:
        return self._act(observation)
