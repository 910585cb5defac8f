"""Exercise 1.5 (c): train with FSDP, fully sharded (ZeRO-3), as a plain script.

    torchrun --standalone --nproc-per-node 2 exercises/ex1_fsdp.py --data D --out OUT

Options and the training recipe: see ex1_distributed_common.py. Results the checks read:
    OUT/final_state_rank<R>.pt   every rank: the full (unsharded) state dict, gathered
    OUT/rank<R>.json             every rank: {"rank", "world_size", "backend", "device"}

Two APIs, both accepted:
- FSDP2: torch.distributed.fsdp.fully_shard(module, mesh=init_device_mesh(device_type, (W,)),
  reshard_after_forward=True) on each layer of model.features, then on the whole model. Works
  on the CPU with gloo (torch 2.14).
- FSDP1: FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy.FULL_SHARD,
  auto_wrap_policy=..., device_id=...). On the CPU it needs device_id=torch.device("cpu"),
  else it fails with "FSDP needs a non-CPU accelerator".
ZeRO-3 means the parameters are gathered for each layer's forward and freed (resharded)
right after it; ZeRO-2 (reshard_after_forward=False, SHARD_GRAD_OP) keeps them until backward.
"""
from __future__ import annotations

import json
import os

import torch
import torch.distributed as dist
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.nn import functional as F

from ex1_distributed_common import build_model, choose_backend, global_batch, load_data, parse_args


def shard_model(model: torch.nn.Module, device: torch.device, world_size: int) -> torch.nn.Module:
    """Shard `model` over all ranks, ZeRO-3: each layer of model.features on its own, then the
    whole model (for the rest: the head). Both are required: the model alone gathers every layer
    at once for the forward; the layers alone become roots that keep their parameters after it."""
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The whole model's state dict, gathered from the shards, on the CPU (on every rank)."""
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def main(argv: list[str] | None = None) -> None:
    """Join the process group (backend from choose_backend(LOCAL_RANK, LOCAL_WORLD_SIZE)), build
    and shard the model — fully_shard on each layer of model.features, then on the model — train
    each rank on its contiguous shard of every global batch (mean cross-entropy, SGD), then
    write the results and destroy the process group."""
    args = parse_args("Exercise 1.5: FSDP (ZeRO-3)", argv)
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


if __name__ == "__main__":
    main()
