"""The `onnx` agent: a policy exported to ONNX (from any framework), run by onnxruntime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from gymrun.components.spaces import space_label
from gymrun.components.trained.model_files import (
    file_identity,
    import_extra,
    model_file,
    one_line,
    require_extra,
    shared,
    traced,
)
from gymrun.components.trained.onnx_files import read_graph
from gymrun.errors import AgentError

ONNX_INSTALL = "gymrun[onnx]"

# onnxruntime's names of the tensor types an observation can be fed as
_INPUT_TYPES: dict[str, type[np.generic]] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


class OnnxAgent:
    """An ONNX policy: the observation goes in, the action is read from an output.

    `input` names the model's observation input (default: its only one) and `output` the
    output that holds the action (default: its first). The output is read by the action space:

    - ``Discrete(n)``: one number per observation is the action itself; ``n`` numbers are
      scores (logits or probabilities) and the action is the highest scoring one (argmax);
    - ``MultiDiscrete(nvec)``: one number per dimension, or each dimension's scores one after
      the other (argmax within each);
    - ``Box``: one number per element of the space's shape, clipped to its bounds.

    Before the first step the input's shape and type are checked against the observation
    space and the model is run once on a zero observation to check its output. A leading
    dynamic (batch) dimension lets a vector run act for every sub-environment in one call;
    copies of the agent share one onnxruntime session.
    """

    file_keywords = ("path",)

    def __init__(
        self,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        path: str,
        input: str | None = None,
        output: str | None = None,
    ) -> None:
        file = model_file(path, "onnx")
        self.session = shared(("onnx", *file_identity(file)), lambda: _session(file))
        self.input = _chosen(file, "input", input, self.session.get_inputs())
        self.output = _chosen(file, "output", output, self.session.get_outputs())
        observed = _observation_shape(file, observation_space)
        self._dtype, self._form = _input_form(file, self.session.get_inputs(), self.input, observed)
        try:
            probe = self._outputs(np.zeros((1, *observed), self._dtype))
        except Exception as exc:  # onnxruntime's own errors, whatever the model's fault
            raise AgentError(
                f"agent onnx: {file} fails on an observation of {space_label(observation_space)}"
                f": {one_line(exc)}"
            ) from exc
        self._read = action_reader(file, self.output, probe.shape[1:], action_space)
        action = self._read(probe)[0]
        if not action_space.contains(action):  # an output that is not the action: a value, say
            raise AgentError(
                f"agent onnx: {file} output '{self.output}' gives {probe[0].tolist()} for a zero "
                f"observation, which is not an action of {space_label(action_space)}"
            )

    @classmethod
    def provenance(
        cls, path: str, input: str | None = None, output: str | None = None
    ) -> dict[str, Any]:
        """The model file and its content hash."""
        return {"model": traced(model_file(path, "onnx"))}

    @classmethod
    def check_unloaded(
        cls,
        observation_space: gym.Space[Any],
        action_space: gym.Space[Any],
        path: str,
        input: str | None = None,
        output: str | None = None,
    ) -> list[str]:
        """What building the agent checks, as far as the file's description of its inputs
        and outputs goes, for ``gymrun validate``: the model is not loaded, nor run on an
        observation. Returns a note of what is left for a run to check."""
        file = model_file(path, "onnx")
        require_extra("onnxruntime", "onnxruntime", ONNX_INSTALL, "agent onnx")
        graph = read_graph(file)
        name = _chosen(file, "input", input, graph.inputs)
        output = _chosen(file, "output", output, graph.outputs)
        observed = _observation_shape(file, observation_space)
        _, form = _input_form(file, graph.inputs, name, observed)
        dims = next(arg.shape for arg in graph.outputs if arg.name == output)
        per_observation = dims if form == "single" else dims[1:]
        left = "what it computes"
        if (dims or form == "single") and all(isinstance(d, int) for d in per_observation):
            action_reader(file, output, tuple(per_observation), action_space)  # type: ignore[arg-type]
        else:
            left += f" and the size of its output '{output}'"
        return [f"agent onnx: its file was read, not loaded; {left} is checked when a run loads it"]

    def act(self, observation: Any) -> Any:
        return self._read(self._outputs(np.asarray(observation, self._dtype)[None]))[0]

    def act_batch(self, observations: Any) -> Any:
        return self._read(self._outputs(np.asarray(observations, self._dtype)))

    def _outputs(self, batch: np.ndarray) -> np.ndarray:
        """The output for each observation of `batch`, one row each."""
        run, names, name = self.session.run, [self.output], self.input
        if self._form == "batch":
            return np.asarray(run(names, {name: batch})[0])
        if self._form == "one":  # a batch dimension fixed at 1
            return np.concatenate([run(names, {name: row[None]})[0] for row in batch])
        return np.stack([run(names, {name: row})[0] for row in batch])


def _session(file: Path) -> Any:
    ort = import_extra("onnxruntime", "onnxruntime", ONNX_INSTALL, "agent onnx")
    options = ort.SessionOptions()
    # a policy's network is small: threads cost more than they save, and gymrun's own
    # parallelism is processes
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(
            str(file), sess_options=options, providers=ort.get_available_providers()
        )
    except Exception as exc:
        raise AgentError(
            f"agent onnx: {file} is not an ONNX model onnxruntime can load: {one_line(exc)}"
        ) from exc


def _chosen(file: Path, kind: str, name: str | None, args: Sequence[Any]) -> str:
    names = [arg.name for arg in args]
    if name is not None:
        if name not in names:
            raise AgentError(
                f"agent onnx: {file} has no {kind} '{name}' (its {kind}s: {', '.join(names)})"
            )
        return name
    if kind == "input" and len(names) != 1:
        raise AgentError(
            f"agent onnx: {file} has inputs {', '.join(names)}; gymrun feeds one, the "
            "observation: export the policy with the observation as its only input"
        )
    return str(names[0])


def _observation_shape(file: Path, space: gym.Space[Any]) -> tuple[int, ...]:
    plain = gym.spaces.Box | gym.spaces.Discrete | gym.spaces.MultiDiscrete | gym.spaces.MultiBinary
    if not isinstance(space, plain):
        raise AgentError(
            f"agent onnx: {file} is fed the observation as one array, and the environment's "
            f"observations {space_label(space)} are not one"
        )
    return tuple(space.shape or ())


def _input_form(
    file: Path, inputs: Sequence[Any], name: str, observed: tuple[int, ...]
) -> tuple[type[np.generic], str]:
    """The type observations are fed as, and how they are batched: ``batch`` (a dynamic
    leading dimension), ``one`` (a leading dimension of 1) or ``single`` (none)."""
    arg = next(arg for arg in inputs if arg.name == name)
    if arg.type not in _INPUT_TYPES:
        raise AgentError(
            f"agent onnx: {file} input '{name}' takes {arg.type}, which is not an observation "
            f"(gymrun feeds {', '.join(_INPUT_TYPES)})"
        )
    dims = list(arg.shape)

    def fits(tail: list[Any]) -> bool:
        if len(tail) != len(observed):
            return False
        pairs = zip(tail, observed, strict=True)
        return all(not isinstance(dim, int) or dim == size for dim, size in pairs)

    if dims and fits(dims[1:]) and (not isinstance(dims[0], int) or dims[0] == 1):
        form = "one" if dims[0] == 1 else "batch"
    elif fits(dims):
        form = "single"
    else:
        raise AgentError(
            f"agent onnx: {file} input '{name}' has shape {_shape_text(dims)}, but the "
            f"environment's observations have shape {list(observed)} (an input of shape "
            f"{_shape_text(['batch', *observed])} takes them)"
        )
    return _INPUT_TYPES[arg.type], form


def action_reader(
    file: Path | str, output: str, per_observation: tuple[int, ...], space: gym.Space[Any]
) -> Callable[[np.ndarray], np.ndarray]:
    """How rows of output `output` (each of shape `per_observation`) become actions of
    `space`, or an `AgentError` when they cannot.

    >>> read = action_reader("policy.onnx", "logits", (3,), gym.spaces.Discrete(3))
    >>> read(np.array([[0.1, 2.0, -1.0], [5.0, 0.0, 0.0]], np.float32))
    array([1, 0])
    >>> try:
    ...     action_reader("policy.onnx", "logits", (3,), gym.spaces.Discrete(2))
    ... except AgentError as exc:
    ...     print(str(exc).split("; ")[1])
    the actions Discrete(2) need 1 (the action) or 2 (a score for each action)
    """
    size = int(np.prod(per_observation))
    if isinstance(space, gym.spaces.Discrete):
        n, start = int(space.n), int(space.start)
        if size == 1:
            return lambda rows: np.rint(rows.reshape(len(rows))).astype(np.int64)
        if size == n:
            return lambda rows: rows.reshape(len(rows), n).argmax(axis=1) + start
        need = f"1 (the action) or {n} (a score for each action)"
    elif isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        counts, starts = space.nvec.tolist(), space.start
        if size == len(counts):
            return lambda rows: np.rint(rows.reshape(len(rows), size)).astype(space.dtype)
        if size == sum(counts):
            edges = np.cumsum(counts)[:-1]

            def best_of_each(rows: np.ndarray) -> np.ndarray:
                parts = np.split(rows.reshape(len(rows), size), edges, axis=1)
                return np.stack([part.argmax(axis=1) for part in parts], axis=1) + starts

            return best_of_each
        need = f"{len(counts)} (the action) or {sum(counts)} (a score for each choice)"
    elif isinstance(space, gym.spaces.Box):
        shape, low, high, dtype = space.shape, space.low, space.high, space.dtype
        if size == int(np.prod(shape)):
            return lambda rows: np.clip(rows.reshape(len(rows), *shape), low, high).astype(dtype)
        need = f"{int(np.prod(shape))} (the action)"
    else:
        raise AgentError(
            f"agent onnx: the actions {space_label(space)} are not read from an output "
            "(Discrete, MultiDiscrete and Box actions are)"
        )
    raise AgentError(
        f"agent onnx: {file} output '{output}' gives {size} numbers per observation; the "
        f"actions {space_label(space)} need {need}"
    )


def _shape_text(dims: Sequence[Any]) -> str:
    return "[" + ", ".join(str(dim) if dim is not None else "?" for dim in dims) + "]"
