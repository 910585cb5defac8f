"""Values as data: what may cross between the checks and the learner process, and how.

A value becomes a JSON tree plus binary blobs. JSON types stay themselves; everything else is a
one-key-tagged object:

    {"$t": i, "grad": bool}   a torch tensor, blob i in safetensors format (dtype and shape kept)
    {"$nd": i}                a numpy array (safetensors); {"$np": i} a numpy scalar
    {"$b": i}                 bytes
    {"$tuple": [...]}, {"$set": [...]}, {"$dict": [[key, value], ...]}  (keys that JSON cannot carry)
    {"$f": "nan" | "inf" | "-inf"}
    {"$dtype": "float32"}, {"$device": "cpu"}, {"$size": [...]}, {"$path": "..."}
    {"$image": i, "mode": "RGB"}  a PIL image (its pixels as an array)
    {"$handle": id, ...}      an object that is not data; it stays where it lives
    {"$recipe": name, ...}    (checks to learner only) an input to build there: see recipes.py

Decoding never runs code that the other side chose: safetensors reads raw tensor bytes, dtypes
come from a fixed list, and a handle is only a number. Nothing here uses pickle.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

MAX_DEPTH = 64
MAX_ITEMS = 1_000_000
TORCH_DTYPES = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
                "complex64", "complex128", "float8_e4m3fn", "float8_e5m2")


class CodecError(ValueError):
    """A value that cannot cross, or a message that does not decode."""


def _torch() -> Any:
    import torch
    return torch


def _numpy() -> Any:
    import numpy
    return numpy


def _tensor_blob(tensor: Any) -> bytes:
    from safetensors.torch import save
    return save({"t": tensor.detach().to("cpu").contiguous()})


def _array_blob(array: Any) -> bytes:
    from safetensors.numpy import save
    return save({"a": _numpy().array(array, order="C")})  # ascontiguousarray would make 0-d arrays 1-d


class Encoder:
    """Turns a value into (tree, blobs). `make_handle(obj)` -> a handle record, for what is not data;
    None means such values are refused (what the checks send must be data or a recipe)."""

    def __init__(self, make_handle: Callable[[Any], dict[str, Any]] | None = None):
        self.blobs: list[bytes] = []
        self.make_handle = make_handle
        self.count = 0

    def blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.count += 1
        if depth > MAX_DEPTH or self.count > MAX_ITEMS:
            raise CodecError("a value nested too deeply or with too many parts to send")
        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) is int:
            return value
        if type(value) is float:
            return value if math.isfinite(value) else {"$f": "nan" if math.isnan(value) else
                                                       ("inf" if value > 0 else "-inf")}
        recorded = getattr(value, "dlgrade_record", None)  # a handle or recipe of ours, sent back
        if isinstance(recorded, dict) and ("$handle" in recorded or "$recipe" in recorded):
            if "$recipe" in recorded:
                return {**recorded, "args": self.encode(recorded["args"], depth + 1),
                        "kwargs": self.encode(recorded["kwargs"], depth + 1)}
            return {"$handle": recorded["$handle"]}
        if isinstance(value, (list, tuple, set, frozenset)) and type(value) in (list, tuple, set, frozenset):
            items = [self.encode(v, depth + 1) for v in value]
            if isinstance(value, list):
                return items
            return {"$tuple": items} if isinstance(value, tuple) else {"$set": items}
        if type(value) is dict:
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: self.encode(v, depth + 1) for k, v in value.items()}
            return {"$dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if isinstance(value, bytes):
            return {"$b": self.blob(bytes(value))}
        if isinstance(value, PurePath):
            return {"$path": str(value)}
        module = type(value).__module__.split(".")[0]
        if module == "torch":
            torch = _torch()
            if isinstance(value, torch.Tensor) and type(value) in (torch.Tensor, torch.nn.Parameter):
                return {"$t": self.blob(_tensor_blob(value)), "grad": bool(value.requires_grad)}
            if isinstance(value, torch.dtype):
                return {"$dtype": str(value).removeprefix("torch.")}
            if isinstance(value, torch.device):
                return {"$device": str(value)}
            if isinstance(value, torch.Size):
                return {"$size": list(value)}
        if module == "numpy":
            np = _numpy()
            if type(value) is np.ndarray and value.dtype.kind in "biufc":
                return {"$nd": self.blob(_array_blob(value))}
            if isinstance(value, np.generic) and value.dtype.kind in "biufc":
                return {"$np": self.blob(_array_blob(np.asarray(value)))}
        if module == "PIL" and hasattr(value, "getbands") and hasattr(value, "mode"):
            return {"$image": self.blob(_array_blob(_numpy().asarray(value))), "mode": value.mode}
        if self.make_handle is None:
            raise CodecError(f"a {type(value).__module__}.{type(value).__qualname__} cannot be sent to the learner "
                             "process: send data, or a Recipe that builds it there")
        return self.make_handle(value)


def encode(value: Any, make_handle: Callable[[Any], dict[str, Any]] | None = None) -> tuple[Any, list[bytes]]:
    encoder = Encoder(make_handle)
    return encoder.encode(value), encoder.blobs


class Decoder:
    """Turns (tree, blobs) back into values. `on_handle(record)` and `on_recipe(record)` decide what a
    handle or a recipe becomes on this side (None: refused)."""

    def __init__(self, blobs: list[bytes], on_handle: Callable[[dict[str, Any]], Any] | None = None,
                 on_recipe: Callable[[str, list[Any], dict[str, Any]], Any] | None = None):
        self.blobs = blobs
        self.on_handle = on_handle
        self.on_recipe = on_recipe

    def _blob(self, index: Any) -> bytes:
        if type(index) is not int or not 0 <= index < len(self.blobs):
            raise CodecError(f"a reference to blob {index!r}, which the message does not carry")
        return self.blobs[index]

    def decode(self, tree: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise CodecError("a value nested too deeply")
        if tree is None or isinstance(tree, (bool, int, float, str)):
            return tree
        if isinstance(tree, list):
            return [self.decode(v, depth + 1) for v in tree]
        if not isinstance(tree, dict):
            raise CodecError(f"an unknown JSON value {type(tree).__name__}")
        tags = [k for k in tree if k.startswith("$")]
        if not tags:
            return {k: self.decode(v, depth + 1) for k, v in tree.items()}
        tag = tags[0]
        body = tree[tag]
        if tag == "$tuple":
            return tuple(self.decode(v, depth + 1) for v in self._list(body))
        if tag == "$set":
            return {self.decode(v, depth + 1) for v in self._list(body)}
        if tag == "$dict":
            return {self.decode(k, depth + 1): self.decode(v, depth + 1) for k, v in self._pairs(body)}
        if tag == "$f":
            if body not in ("nan", "inf", "-inf"):
                raise CodecError(f"an unknown float {body!r}")
            return float(body)
        if tag == "$b":
            return self._blob(body)
        if tag == "$path":
            from pathlib import Path
            return Path(self._str(body))
        if tag == "$t":
            from safetensors.torch import load
            tensor = self._single(load(self._blob(body)))
            return tensor.requires_grad_(True) if tree.get("grad") is True and tensor.is_floating_point() else tensor
        if tag in ("$nd", "$np", "$image"):
            from safetensors.numpy import load as load_numpy
            array = self._single(load_numpy(self._blob(body)))
            if tag == "$np":
                return array[()]
            if tag == "$image":
                from PIL import Image
                return Image.fromarray(array, mode=self._str(tree.get("mode")))
            return array
        if tag == "$dtype":
            if body not in TORCH_DTYPES:
                raise CodecError(f"an unknown dtype {body!r}")
            return getattr(_torch(), body)
        if tag == "$device":
            return _torch().device(self._str(body))
        if tag == "$size":
            return _torch().Size([int(v) for v in self._list(body)])
        if tag == "$handle":
            if self.on_handle is None:
                raise CodecError("a handle where only data may come")
            return self.on_handle(tree)
        if tag == "$recipe":
            if self.on_recipe is None:
                raise CodecError("a recipe where only data may come")
            args = self.decode(tree.get("args", []), depth + 1)
            kwargs = self.decode(tree.get("kwargs", {}), depth + 1)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise CodecError("a recipe with malformed arguments")
            return self.on_recipe(self._str(body), args, kwargs)
        raise CodecError(f"an unknown tag {tag!r}")

    @staticmethod
    def _single(tensors: dict[str, Any]) -> Any:
        if len(tensors) != 1:
            raise CodecError("a tensor blob that does not hold exactly one tensor")
        return next(iter(tensors.values()))

    @staticmethod
    def _list(body: Any) -> list[Any]:
        if not isinstance(body, list):
            raise CodecError("a malformed collection")
        return body

    def _pairs(self, body: Any) -> list[list[Any]]:
        pairs = self._list(body)
        if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
            raise CodecError("a malformed mapping")
        return pairs

    @staticmethod
    def _str(body: Any) -> str:
        if not isinstance(body, str):
            raise CodecError("a malformed string field")
        return body


def decode(tree: Any, blobs: list[bytes], on_handle: Callable[[dict[str, Any]], Any] | None = None,
           on_recipe: Callable[[str, list[Any], dict[str, Any]], Any] | None = None) -> Any:
    return Decoder(blobs, on_handle, on_recipe).decode(tree)
