"""ONNX files: a model's inputs and outputs (names, element types, shapes), read from the
file's protobuf without onnx or onnxruntime and without reading its weights.

An ONNX file is a ``ModelProto``; its ``graph`` lists the inputs and outputs as
``ValueInfoProto``. Only those, and the names of the initializers (weights, which are not
inputs to feed), are read; every other field (the nodes, the weights' data) is skipped by
its length. The names, types and shapes are given as onnxruntime gives them (``tensor(float)``;
a dimension as a number, a name, or None), so its checks and these read the same.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gymrun.errors import AgentError

# onnx.TensorProto's element types, by number, as onnxruntime names them
_ELEMENT_TYPES = {
    1: "float",
    2: "uint8",
    3: "int8",
    4: "uint16",
    5: "int16",
    6: "int32",
    7: "int64",
    8: "string",
    9: "bool",
    10: "float16",
    11: "double",
    12: "uint32",
    13: "uint64",
    14: "complex64",
    15: "complex128",
    16: "bfloat16",
}
# TypeProto's kinds other than a tensor
_OTHER_TYPES = {4: "a sequence", 5: "a map", 8: "a sparse tensor", 9: "an optional value"}

MAX_FIELDS = 1_000_000  # fields of one message: nodes and weights of a graph, say
MAX_VALUE_INFO = 1 << 20  # bytes of one input's or output's description

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5


@dataclass(frozen=True)
class GraphArg:
    """An input or output of a graph, as onnxruntime's ``NodeArg`` describes it."""

    name: str
    type: str
    shape: list[int | str | None]


@dataclass(frozen=True)
class Graph:
    inputs: list[GraphArg]
    outputs: list[GraphArg]


class _Malformed(Exception):
    """The bytes are not the protobuf of an ONNX model."""


def read_graph(file: Path) -> Graph:
    """The inputs (initializers left out, as onnxruntime leaves them out) and outputs of the
    ONNX model in `file`, or an `AgentError` when it is not one."""
    try:
        with file.open("rb") as handle:
            end = handle.seek(0, io.SEEK_END)
            handle.seek(0)
            inputs: list[GraphArg] = []
            outputs: list[GraphArg] = []
            weights: set[str] = set()
            graphs = 0
            for number, value in _fields(handle, end):
                if number != 7:  # ModelProto.graph
                    continue
                graphs += 1
                start, length = _span(value)
                for field, part in _fields(handle, start + length):
                    if field == 5:  # GraphProto.initializer: a TensorProto
                        weights.add(_tensor_name(handle, part))
                    elif field in (11, 12):  # GraphProto.input, GraphProto.output
                        (inputs if field == 11 else outputs).append(_value_info(handle, part))
    except OSError as exc:
        raise AgentError(f"agent onnx: cannot read {file}: {exc.strerror or exc}") from exc
    except _Malformed as exc:
        raise AgentError(f"agent onnx: {file} is not an ONNX model: {exc}") from None
    if not graphs:
        raise AgentError(f"agent onnx: {file} is not an ONNX model: it holds no graph")
    return Graph([arg for arg in inputs if arg.name not in weights], outputs)


def _fields(handle: IO[bytes], end: int) -> Iterator[tuple[int, int | tuple[int, int]]]:
    """The fields of the message from here to byte `end`: (number, value), a value being a
    number, or a length-delimited field's (start, length); the reader is left after each
    field when the next is read, whatever the caller read of it."""
    for _ in range(MAX_FIELDS):
        if handle.tell() >= end:
            if handle.tell() > end:
                raise _Malformed("a field runs past the end of its message")
            return
        key = _varint(handle)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Malformed(f"field number 0 at byte {handle.tell()}")
        if wire == _VARINT:
            yield number, _varint(handle)
        elif wire in (_FIXED64, _FIXED32):
            handle.seek(8 if wire == _FIXED64 else 4, io.SEEK_CUR)
        elif wire == _LENGTH:
            length = _varint(handle)
            start = handle.tell()
            if start + length > end:
                raise _Malformed(f"a field at byte {start} runs past the end of its message")
            yield number, (start, length)
            handle.seek(start + length)
        else:
            raise _Malformed(f"unknown wire type {wire} at byte {handle.tell()}")
    raise _Malformed(f"a message with more than {MAX_FIELDS:,} fields")


def _varint(handle: IO[bytes]) -> int:
    result = 0
    for shift in range(0, 70, 7):
        byte = handle.read(1)
        if not byte:
            raise _Malformed("it ends in the middle of a field")
        result |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return result
    raise _Malformed("a number longer than 10 bytes")


def _span(value: int | tuple[int, int]) -> tuple[int, int]:
    if not isinstance(value, tuple):
        raise _Malformed("a message where a number was expected")
    return value


def _text(handle: IO[bytes], value: int | tuple[int, int], limit: int = 4096) -> str:
    start, length = _span(value)
    if length > limit:
        raise _Malformed(f"a name longer than {limit:,} bytes")
    handle.seek(start)
    return handle.read(length).decode("utf-8", errors="replace")


def _tensor_name(handle: IO[bytes], value: int | tuple[int, int]) -> str:
    start, length = _span(value)
    handle.seek(start)
    name = ""
    for field, part in _fields(handle, start + length):
        if field == 8:  # TensorProto.name; the data (raw_data, ...) is skipped
            name = _text(handle, part)
    return name


def _value_info(handle: IO[bytes], value: int | tuple[int, int]) -> GraphArg:
    """A ValueInfoProto (name = 1, type = 2), read whole: it is small."""
    start, length = _span(value)
    if length > MAX_VALUE_INFO:
        raise _Malformed(f"an input or output described in more than {MAX_VALUE_INFO:,} bytes")
    handle.seek(start)
    message = io.BytesIO(handle.read(length))
    name, kind = "", "no type"
    shape: list[int | str | None] = []
    for field, part in _fields(message, length):
        if field == 1:
            name = _text(message, part)
        elif field == 2:
            kind, shape = _type(message, part)
    return GraphArg(name, kind, shape)


def _type(handle: IO[bytes], value: int | tuple[int, int]) -> tuple[str, list[int | str | None]]:
    """A TypeProto: ``tensor(float)`` and its shape, or what else it is (with no shape)."""
    start, length = _span(value)
    handle.seek(start)
    for field, part in _fields(handle, start + length):
        if field == 1:  # TypeProto.tensor_type: elem_type = 1, shape = 2
            element = 0
            shape: list[int | str | None] = []
            begin, size = _span(part)
            handle.seek(begin)
            for inner, item in _fields(handle, begin + size):
                if inner == 1 and isinstance(item, int):
                    element = item
                elif inner == 2:
                    shape = _shape(handle, item)
            return f"tensor({_ELEMENT_TYPES.get(element, 'undefined')})", shape
        if field in _OTHER_TYPES:
            return _OTHER_TYPES[field], []
    return "no type", []


def _shape(handle: IO[bytes], value: int | tuple[int, int]) -> list[int | str | None]:
    """A TensorShapeProto: each dimension (dim = 1) a number (dim_value = 1), a name
    (dim_param = 2), or None when it says neither (or a negative number)."""
    start, length = _span(value)
    handle.seek(start)
    dims: list[int | str | None] = []
    for field, part in _fields(handle, start + length):
        if field != 1:
            continue
        dim: int | str | None = None
        begin, size = _span(part)
        handle.seek(begin)
        for inner, item in _fields(handle, begin + size):
            if inner == 1 and isinstance(item, int):
                dim = item if item < 1 << 63 else None  # negative: not a size
            elif inner == 2:
                dim = _text(handle, item)
        dims.append(dim)
    return dims
