"""练习 1.5 (c)：用 FSDP 完全分片（ZeRO-3）训练，写成一个普通的 Python 脚本。

    torchrun --standalone --nproc-per-node 2 exercises/ex1_fsdp.py --data D --out OUT

选项和训练方法见 `ex1_distributed_common.py`。检查程序读取的结果：
    `OUT/final_state_rank<R>.pt`   每个 rank 都保存：从各分片收集（gather）起来的完整 state dict
    `OUT/rank<R>.json`             每个 rank 写一个：`{"rank", "world_size", "backend", "device"}`
                                   （和 `ex1_ddp.py` 一样）

“完全分片、逐层 ZeRO-3”在这里的意思，也就是检查程序核对的三件事：
1. `model.features` 的每一层都是一个独立的 FSDP 单元，整个模型（包含剩下的 `head`）是根单元；
2. 在两步之间，每个 rank 只持有每一层参数的大约 `1/W`（`W` 是 rank 数）；
3. 每一层前向时才把参数收集完整，这一层的前向一结束就释放（重新分片），不留到 backward。
ZeRO-2（FSDP2 的 `reshard_after_forward=False`，FSDP1 的 `ShardingStrategy.SHARD_GRAD_OP`）前向后保留收集好的
参数，不算数；只把整个模型交给 FSDP 也不算：前向时所有层会被一次性收集。

两种 API 都可以：
- FSDP2：对 `model.features` 的每一层调用
  `fully_shard(layer, mesh=init_device_mesh(device_type, (W,)), reshard_after_forward=True)`，
  然后对整个模型再调用一次。在 CPU 上配合 gloo 可以运行（torch 2.14）。
- FSDP1：
  `FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy.FULL_SHARD, auto_wrap_policy=..., device_id=...)`
  ——其中 `auto_wrap_policy` 要把每一层单独包起来（例如
  `ModuleWrapPolicy([nn.Sequential])`；按参数量包装的 `size_based_auto_wrap_policy` 会把小的层留在根单元里）。
  在 CPU 上需要 `device_id=torch.device("cpu")`，否则会报错 "FSDP needs a non-CPU accelerator"。

English:
Exercise 1.5 (c): train with FSDP, fully sharded (ZeRO-3), as a plain script.

    torchrun --standalone --nproc-per-node 2 exercises/ex1_fsdp.py --data D --out OUT

Options and the training recipe: see `ex1_distributed_common.py`. Results the checks read:
    `OUT/final_state_rank<R>.pt`   every rank: the full (unsharded) state dict, gathered
    `OUT/rank<R>.json`             every rank: `{"rank", "world_size", "backend", "device"}` (as in
                                   `ex1_ddp.py`)

Fully sharded, ZeRO-3 layer by layer, means here the three things the checks verify:
1. every layer of `model.features` is an FSDP unit of its own, and the whole model (with the rest:
   the `head`) is the root unit;
2. between steps each rank holds about `1/W` of every layer's parameters (`W` ranks);
3. a layer's parameters are gathered for its forward and freed (resharded) right after it, not kept
   until backward.
ZeRO-2 (`reshard_after_forward=False` in FSDP2, `ShardingStrategy.SHARD_GRAD_OP` in FSDP1) keeps the
gathered parameters after the forward and does not count; nor does giving only the whole model to FSDP:
the forward then gathers every layer at once.

Two APIs, both accepted:
- FSDP2: `fully_shard(layer, mesh=init_device_mesh(device_type, (W,)), reshard_after_forward=True)` on
  each layer of `model.features`, then on the whole model. Works on the CPU with gloo (torch 2.14).
- FSDP1:
  `FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy.FULL_SHARD, auto_wrap_policy=..., device_id=...)`,
  with an `auto_wrap_policy` that wraps each layer on its own
  (e.g. `ModuleWrapPolicy([nn.Sequential])`; a `size_based_auto_wrap_policy` leaves small layers in the
  root unit). On the CPU it needs `device_id=torch.device("cpu")`, else it fails with "FSDP needs a
  non-CPU accelerator".
"""
from __future__ import annotations

import json
import os

import torch
import torch.distributed as dist
from ex1_distributed_common import build_model, choose_backend, global_batch, load_data, parse_args
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import fully_shard
from torch.nn import functional as F


def shard_model(model: torch.nn.Module, device: torch.device, world_size: int) -> torch.nn.Module:
    """把 `model` 分片到所有 rank 上（ZeRO-3），返回分片后的模型：先把 `model.features` 的每一层各自分片，
    再把整个模型分片（负责剩下的 `head`）。两步都需要：只分片整个模型，前向时会一次性收集所有层；只分片
    各层，每一层都会变成自己的根，前向后仍然保留收集好的参数，`head` 的梯度也不会在 rank 之间平均。

    English:
    Shard `model` over all ranks, ZeRO-3, and return the sharded model: each layer of `model.features` on
    its own, then the whole model (for the rest: the `head`). Both are required: the model alone gathers
    every layer at once for the forward; the layers alone become roots that keep their parameters after
    it, and the `head`'s gradients are never averaged across ranks.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def full_state_dict(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """整个模型的 state dict：从各分片收集完整，放在 CPU 上；每个 rank 都要拿到完整的一份。

    English:
    The whole model's state dict, gathered from the shards, on the CPU — the full dict on every rank.
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def main(argv: list[str] | None = None) -> None:
    """加入进程组（后端来自 `choose_backend(LOCAL_RANK, LOCAL_WORLD_SIZE)`），构建模型并用 `shard_model()`
    分片；每个 rank 在每个全局 batch 中属于自己的那一份上训练（和 `ex1_ddp.py` 一样：行数相同、互不重叠；
    平均交叉熵，SGD）；然后用 `full_state_dict()` 写出结果，最后销毁进程组。

    English:
    Join the process group (the backend from `choose_backend(LOCAL_RANK, LOCAL_WORLD_SIZE)`), build the
    model and shard it with `shard_model()`; train each rank on its share of every global batch (as in
    `ex1_ddp.py`: equal, disjoint shares; mean cross-entropy, SGD); then write the results with
    `full_state_dict()` and destroy the process group.
    """
    args = parse_args("Exercise 1.5: FSDP (ZeRO-3)", argv)
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


if __name__ == "__main__":
    main()
