"""练习 1.5 (b)：用 DistributedDataParallel 训练，写成一个普通的 Python 脚本。

    torchrun --standalone --nproc-per-node 2 exercises/ex1_ddp.py --data D --out OUT
    python exercises/ex1_ddp.py --spawn 2 --data D --out OUT     （用 `torch.multiprocessing.spawn` 启动）

选项和训练方法见 `ex1_distributed_common.py`。检查程序读取的结果：
    `OUT/final_state.pt`   rank 0 保存训练好的模型的 state dict（键不带 DDP 的 `"module."` 前缀）
    `OUT/rank<R>.json`     每个 rank 写一个：`{"rank", "world_size", "backend", "device"}`，其中
                           `"backend"` 和 `"device"` 是 `choose_backend()` 给出的后端和 `str(device)`
                           （例如 `"gloo"` 和 `"cpu"`）

English:
Exercise 1.5 (b): train with DistributedDataParallel, as a plain script.

    torchrun --standalone --nproc-per-node 2 exercises/ex1_ddp.py --data D --out OUT
    python exercises/ex1_ddp.py --spawn 2 --data D --out OUT     (`torch.multiprocessing.spawn`)

Options and the training recipe: see `ex1_distributed_common.py`. Results the checks read:
    `OUT/final_state.pt`   rank 0 saves the trained model's state dict (without DDP's `"module."` prefix)
    `OUT/rank<R>.json`     every rank: `{"rank", "world_size", "backend", "device"}`, where `"backend"`
                           and `"device"` are the backend and `str(device)` that `choose_backend()` gave
                           (e.g. `"gloo"` and `"cpu"`)
"""
from __future__ import annotations

import json
import os

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from ex1_distributed_common import build_model, choose_backend, global_batch, load_data, parse_args
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel


def shard(images: torch.Tensor, labels: torch.Tensor, rank: int, world_size: int):
    """本 rank 在一个全局 batch 中分到的那一份，返回 `(images, labels)`，例如连续的
    `[rank * B/W, (rank + 1) * B/W)` 这些行（`B` 是全局 batch 的行数，`W` 是 `world_size`）。

    每个 rank 拿到的行数相同（`B/W`），各 rank 之间互不重叠，合起来正好是整个全局 batch；怎么分都可以
    （连续的一段，或者像 `DistributedSampler` 那样隔 `W` 行取一行）。

    English:
    This rank's share of a global batch, as `(images, labels)`: e.g. the contiguous rows
    `[rank * B/W, (rank + 1) * B/W)` (`B` the global batch's rows, `W` the `world_size`).

    Every rank gets the same number of rows (`B/W`), no row goes to two ranks, and together they cover
    the whole global batch; any such split will do (a contiguous block, or every `W`-th row as
    `DistributedSampler` takes them).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def train(rank: int, world_size: int, args, init_method: str = "env://") -> None:
    """一个 rank 的全部工作：加入进程组，训练包在 DDP 里的模型，写出结果。

    后端和设备由 `choose_backend(local_rank, local_world_size)` 决定（在 torchrun 下取环境变量
    `LOCAL_RANK` 和 `LOCAL_WORLD_SIZE`；用 spawn 启动时就是 `rank` 和 `world_size`），然后用
    `dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)` 加入
    进程组。用 `build_model(args.model_factory, args.seed)` 构建模型，放到该设备上，再包进
    `DistributedDataParallel`（只有 CUDA 设备才传 `device_ids`）。每一步：取全局 batch，取本 rank 的
    `shard()`，算平均交叉熵，backward（DDP 会在各 rank 之间平均梯度），再做一步 SGD。训练完后写
    `OUT/rank<R>.json`，rank 0 再写 `OUT/final_state.pt`，最后销毁进程组（`dist.destroy_process_group()`）。

    English:
    One rank's work: join the process group, train the DDP-wrapped model, write the results.

    The backend and device come from `choose_backend(local_rank, local_world_size)` (the environment's
    `LOCAL_RANK` and `LOCAL_WORLD_SIZE` under torchrun; `rank` and `world_size` when spawned); join with
    `dist.init_process_group(backend, init_method=init_method, rank=rank, world_size=world_size)`. Build
    the model with `build_model(args.model_factory, args.seed)` on the device and wrap it in
    `DistributedDataParallel` (`device_ids` only for a CUDA device). For each step take the global batch,
    this rank's `shard()`, the mean cross-entropy, backward (DDP averages the gradients over the ranks),
    an SGD step. Then write `OUT/rank<R>.json`, and `OUT/final_state.pt` from rank 0, and destroy the
    process group (`dist.destroy_process_group()`).
    """
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


def spawned(rank: int, world_size: int, args) -> None:
    """`torch.multiprocessing.spawn` 启动的子进程的入口：通过 `OUT` 里的一个文件会合（rendezvous）。

    English:
    Entry point of a `torch.multiprocessing.spawn` child: rendezvous through a file in `OUT`.
    """
    train(rank, world_size, args, init_method=f"file://{(args.out / 'rendezvous').resolve()}")


def main(argv: list[str] | None = None) -> None:
    """命令行入口：`--spawn N` 时自己启动 `N` 个 rank，否则（在 torchrun 下）从环境变量 `RANK` 和
    `WORLD_SIZE` 读出本进程的 rank。

    English:
    The command line: with `--spawn N` start `N` ranks itself, else (under torchrun) take this process's
    rank from the environment's `RANK` and `WORLD_SIZE`.
    """
    args = parse_args("Exercise 1.5: DistributedDataParallel", argv,
                      lambda p: p.add_argument("--spawn", type=int, default=0,
                                               help="start this many ranks with torch.multiprocessing.spawn"))
    if args.spawn:
        (args.out / "rendezvous").unlink(missing_ok=True)
        mp.spawn(spawned, args=(args.spawn, args), nprocs=args.spawn, join=True)
    else:
        train(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), args)


if __name__ == "__main__":
    main()
