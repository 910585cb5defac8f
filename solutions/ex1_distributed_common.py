"""练习 1.5：三个训练脚本共用的部分——命令行、数据和模型。

三个脚本接受同样的选项，检查程序（和你自己）都用同样的方式运行它们：
    `--data PATH`          一个 torch 文件：`{"images": (N, 1, 28, 28) float32, "labels": (N,) int64}`
    `--out DIR`            脚本写结果的目录（不存在就创建）
    `--steps N`            优化的步数（默认 `20`）
    `--global-batch B`     每一步所有 rank 加在一起处理的样本行数（默认 `32`）
    `--lr LR`              普通 SGD 的学习率（默认 `0.05`）
    `--seed S`             模型初始化的随机种子（默认 `0`）
    `--model-factory M:F`  模型：模块 `M` 里的函数 `F`，以 `F(seed=S)` 调用（默认是评分程序自带的小 CNN，
                           `dlgrade.checkkit.rank_probes:make_cnn`）
第 `t` 步用数据中 `[t * B, (t + 1) * B)` 这些行作为全局 batch；损失是交叉熵的平均值；优化器是
`torch.optim.SGD(params, lr=LR)`。因此每个正确的脚本训练结束时的权重，都和单个进程在每个完整的全局 batch 上
训练得到的权重相同——检查程序正是这样核对的。

English:
Exercise 1.5, shared by the three training scripts: the command line, the data, the model.

Every script takes the same options, so the checks (and you) run them the same way:
    `--data PATH`          a torch file `{"images": (N, 1, 28, 28) float32, "labels": (N,) int64}`
    `--out DIR`            where the script writes its results (created if missing)
    `--steps N`            optimisation steps (default `20`)
    `--global-batch B`     rows per step over all ranks together (default `32`)
    `--lr LR`              plain SGD learning rate (default `0.05`)
    `--seed S`             seed of the model's initialisation (default `0`)
    `--model-factory M:F`  the model: function `F` of module `M`, called as `F(seed=S)` (default: the
                           grader's small CNN, `dlgrade.checkkit.rank_probes:make_cnn`)
Step `t` uses the rows `[t * B, (t + 1) * B)` of the data as its global batch; the loss is the mean
cross-entropy; the optimiser is `torch.optim.SGD(params, lr=LR)` — so every correct script ends with
the same weights as one process training on each whole global batch, which is what the checks compare.
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import torch
from torch import nn


def parse_args(description: str, argv: list[str] | None = None, extra=None) -> argparse.Namespace:
    """解析上面列出的共用选项（`extra(parser)` 可以再添加脚本自己的选项），并创建 `--out` 目录。
    这个函数已经写好。

    English:
    Parse the shared options listed above (`extra(parser)` may add a script's own) and create the
    `--out` folder. Given.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--global-batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model-factory", default="dlgrade.checkkit.rank_probes:make_cnn")
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def load_data(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """读入 `--data` 文件，返回 `(images, labels)`。这个函数已经写好。

    English:
    Read the `--data` file and return `(images, labels)`. Given.
    """
    data = torch.load(path, weights_only=True)
    return data["images"], data["labels"]


def build_model(factory: str, seed: int) -> nn.Module:
    """`--model-factory` 指定的模型，以 `F(seed=seed)` 构建：每个 rank 得到完全相同的初始权重。这个函数已经写好。

    English:
    The `--model-factory` model, built as `F(seed=seed)`: every rank gets the same initial weights. Given.
    """
    module_name, function_name = factory.split(":")
    return getattr(importlib.import_module(module_name), function_name)(seed=seed)


def global_batch(images: torch.Tensor, labels: torch.Tensor, step: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """第 `step` 步的全局 batch：`images` 和 `labels` 的 `[step * size, (step + 1) * size)` 行。这个函数已经写好。

    English:
    Step `step`'s global batch: the rows `[step * size, (step + 1) * size)` of `images` and `labels`. Given.
    """
    return images[step * size: (step + 1) * size], labels[step * size: (step + 1) * size]


def choose_backend(local_rank: int, local_world_size: int) -> tuple[str, torch.device]:
    """返回进程组的后端和本 rank 的设备 `(backend, device)`；每个 rank 都要做出同一个选择。

    `local_world_size` 是这台机器上的 rank 数（torchrun 的 `LOCAL_WORLD_SIZE`）。机器上的 CUDA GPU 够每个
    本地 rank 各用一块时（`torch.cuda.device_count() >= local_world_size`），返回
    `("nccl", torch.device("cuda", local_rank))`；否则每个 rank 都返回 `("gloo", torch.device("cpu"))`——
    只有一块 GPU、却有两个 rank 时也是这样：一个进程组只能用一种后端，而 NCCL 要求每个 rank 各有一块 GPU。
    选中 GPU 时可以顺便调用 `torch.cuda.set_device(local_rank)`。

    English:
    The process-group backend and this rank's device, `(backend, device)`, the same choice on every rank.

    `local_world_size` is the number of ranks on this machine (torchrun's `LOCAL_WORLD_SIZE`). When the
    machine has a CUDA GPU for every local rank (`torch.cuda.device_count() >= local_world_size`), return
    `("nccl", torch.device("cuda", local_rank))`; otherwise `("gloo", torch.device("cpu"))` on every
    rank — also with one GPU and two ranks: a process group uses one backend, and NCCL needs a GPU per
    rank. Choosing a GPU may also call `torch.cuda.set_device(local_rank)`.
    """
    # BEGIN SOLUTION
    if torch.cuda.is_available() and torch.cuda.device_count() >= local_world_size:
        return "nccl", torch.device("cuda", local_rank)
    return "gloo", torch.device("cpu")
    # END SOLUTION
