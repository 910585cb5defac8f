"""Grader-owned parts that the learner's distributed scripts run: a probed CNN and a CPU
stand-in for nn.DataParallel.

ProbedCNN is small and has no BatchNorm (per-rank batch statistics would make a correct DDP
run differ from the single-process reference). When DLGRADE_PROBE_DIR is set, every forward
appends one JSON line to <dir>/rank<R>.jsonl:
  rows:         the batch rows this rank's forward saw;
  at_rest:      {"features.<i>": share} when the forward starts: the parameter elements this
                rank holds for that layer / the layer's parameter count (about 1/world when
                sharded, 1.0 when replicated or gathered). Held means materialised: a shard, a
                gathered copy still in use, or a gathered copy kept alive under a sharded view
                (FSDP1 SHARD_GRAD_OP swaps its flat parameter back to the shard after forward but
                keeps the gathered buffer, which the layer's own tensors still point into);
  after_layers: the same when the forward ends: with ZeRO-3 (FSDP1 FULL_SHARD, FSDP2
                reshard_after_forward=True) each layer has already freed its gathered
                parameters again; with ZeRO-2 it keeps them until backward.
  fsdp2:        the modules given to FSDP2's fully_shard ("" is the whole model,
                "features.<i>" a layer), so a check can say *how* the sharding differs;
  fsdp1:        the FSDP1 units inside the model (FullyShardedDataParallel wrappers, named by
                the module they took the place of); FSDP1's root wraps the model from outside
                and is not listed.
Shares are per layer, not per parameter: FSDP1 flattens a layer's parameters into one buffer
and cuts that, so one rank may hold all of a bias and part of a weight. Only the feature
layers are measured: the root's own parameters (the head) are gathered by FSDP's root
pre-forward hook before any hook of the model can look at them.

CpuDataParallel has nn.DataParallel's interface and does what it does on GPUs, on the CPU:
split every tensor argument along dim 0 into one chunk per device id (other arguments are
given to every chunk), run the module on each chunk, and gather the outputs as nn.DataParallel
does: tensors concatenated along dim 0, 0-d tensors (a loss per device) stacked into a vector,
tuples and dicts element by element (nn.DataParallel without GPUs calls the module on the
whole batch).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

PROBE_ENV = "DLGRADE_PROBE_DIR"


def _held(module: nn.Module) -> int:
    """Parameter elements this rank holds for `module` now (a DTensor counts its local shard;
    FSDP1's flat parameter counts what its data currently is: the shard, or the gathered whole)."""
    return sum((p.to_local() if hasattr(p, "to_local") else p).numel() for p in module.parameters())


def _materialised(slots: list[tuple[nn.Module, str]]) -> int:
    """Elements of a layer's own parameter tensors (as the layer uses them) whose storage is
    allocated: FSDP1 frees a gathered buffer by shrinking its storage to 0, FSDP2 swaps the
    gathered tensors back for sharded DTensors (their local shard counts)."""
    total = 0
    for module, name in slots:
        tensor = getattr(module, name, None)
        if not isinstance(tensor, torch.Tensor):
            continue
        if hasattr(tensor, "to_local"):
            tensor = tensor.to_local()
        if tensor.untyped_storage().size() > 0:
            total += tensor.numel()
    return total


def _rank() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return int(os.environ.get("RANK", "0"))


class ProbedCNN(nn.Module):
    """Two conv layers and a linear head for 1x28x28 digits; `features` holds the conv layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.ModuleList([
            nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU()),
            nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU()),
        ])
        self.head = nn.Linear(16 * 7 * 7, 10)

        self._layer_sizes = [sum(p.numel() for p in layer.parameters()) for layer in self.features]
        # Each layer's parameter slots (module, attribute), kept by object: FSDP1 wraps a layer in
        # place and, with use_orig_params=False, deregisters its parameters but keeps tensors there.
        self._slots = [[(m, name) for m in layer.modules() for name, _ in m.named_parameters(recurse=False)]
                       for layer in self.features]
        self.register_forward_pre_hook(self._at_rest)
        self._pending: dict = {}

    def _at_rest(self, module, args) -> None:
        self._pending = {"rows": int(args[0].shape[0]), "at_rest": self._shares(), "fsdp2": self._fully_sharded(),
                         "fsdp1": self._fsdp1_units()}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        record = self._pending or {"rows": int(x.shape[0])}
        for layer in self.features:
            x = layer(x)
        out = self.head(torch.flatten(x, 1))
        record["after_layers"] = self._shares()
        self._write(record)
        return out

    def _shares(self) -> dict[str, float]:
        return {f"features.{i}": round(max(_held(layer), _materialised(slots)) / size, 4)
                for i, (layer, slots, size) in enumerate(zip(self.features, self._slots, self._layer_sizes))}

    def _fully_sharded(self) -> list[str]:
        from torch.distributed.fsdp import FSDPModule

        return [name for name, module in self.named_modules() if isinstance(module, FSDPModule)]

    def _fsdp1_units(self) -> list[str]:
        from torch.distributed.fsdp import FullyShardedDataParallel

        return [name for name, module in self.named_modules() if isinstance(module, FullyShardedDataParallel)]

    @staticmethod
    def _write(record: dict) -> None:
        folder = os.environ.get(PROBE_ENV)
        if folder:
            with open(Path(folder) / f"rank{_rank()}.jsonl", "a") as f:
                f.write(json.dumps(record) + "\n")


def make_cnn(seed: int = 0) -> ProbedCNN:
    """The model every rank must build identically: seeded here."""
    torch.manual_seed(seed)
    return ProbedCNN()


def read_probe(folder: Path, rank: int) -> list[dict]:
    path = Path(folder) / f"rank{rank}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


class CpuDataParallel(nn.Module):
    """nn.DataParallel's interface; splits the batch across `device_ids` chunks on the CPU."""

    def __init__(self, module: nn.Module, device_ids: list[int] | None = None, output_device=None, dim: int = 0):
        super().__init__()
        self.module = module
        self.device_ids = list(device_ids) if device_ids else [0, 1]
        self.dim = dim
        self.chunk_rows: list[list[int]] = []

    def forward(self, *inputs, **kwargs):
        n = len(self.device_ids)
        chunks = torch.chunk(inputs[0], n, dim=self.dim)
        self.chunk_rows.append([c.shape[self.dim] for c in chunks])
        folder = os.environ.get(PROBE_ENV)
        if folder:
            with open(Path(folder) / "dataparallel.jsonl", "a") as f:
                f.write(json.dumps({"chunks": self.chunk_rows[-1]}) + "\n")
        per_device = zip(_scatter(inputs, n, self.dim), _scatter(kwargs, n, self.dim))
        return _gather([self.module(*args, **kw) for args, kw in per_device], self.dim)


def _scatter(obj, n: int, dim: int) -> list:
    """nn.DataParallel's scatter: tensors cut along `dim`, containers element by element, the rest copied."""
    if isinstance(obj, torch.Tensor):
        return list(torch.chunk(obj, n, dim=dim))
    if isinstance(obj, (list, tuple)) and obj:
        return [type(obj)(part) for part in zip(*(_scatter(o, n, dim) for o in obj))]
    if isinstance(obj, dict) and obj:
        return [dict(zip(obj, part)) for part in zip(*(_scatter(v, n, dim) for v in obj.values()))]
    return [obj] * n


def _gather(outputs: list, dim: int):
    """nn.DataParallel's gather: tensors concatenated along `dim` (0-d ones stacked), containers element by element."""
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        if first.dim() == 0:
            return torch.stack(outputs)
        return torch.cat(outputs, dim=dim)
    if isinstance(first, dict):
        return type(first)((key, _gather([o[key] for o in outputs], dim)) for key in first)
    if isinstance(first, (list, tuple)):
        return type(first)(_gather(list(part), dim) for part in zip(*outputs))
    return first if first is None else outputs
