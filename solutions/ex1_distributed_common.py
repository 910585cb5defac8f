"""Exercise 1.5, shared by the three training scripts: the command line, the data, the model.

Every script takes the same options, so the checks (and you) run them the same way:
    --data PATH          a torch file {"images": (N, 1, 28, 28) float32, "labels": (N,) int64}
    --out DIR            where the script writes its results (created if missing)
    --steps N            optimisation steps (default 20)
    --global-batch B     rows per step over all ranks together (default 32)
    --lr LR              plain SGD learning rate (default 0.05)
    --seed S             seed of the model's initialisation (default 0)
    --model-factory M:F  the model: function F of module M, called as F(seed=S) (default: the
                         grader's small CNN, dlgrade.checkkit.rank_probes:make_cnn)
Step t uses the rows [t * B, (t + 1) * B) of the data as its global batch; the loss is the mean
cross-entropy; the optimiser is torch.optim.SGD(params, lr=LR) — so every correct script ends
with the same weights as one process training on the whole global batch.
"""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import torch
from torch import nn


def parse_args(description: str, argv: list[str] | None = None, extra=None) -> argparse.Namespace:
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
    data = torch.load(path, weights_only=True)
    return data["images"], data["labels"]


def build_model(factory: str, seed: int) -> nn.Module:
    module_name, function_name = factory.split(":")
    return getattr(importlib.import_module(module_name), function_name)(seed=seed)


def global_batch(images: torch.Tensor, labels: torch.Tensor, step: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    return images[step * size: (step + 1) * size], labels[step * size: (step + 1) * size]


def choose_backend(local_rank: int, local_world_size: int) -> tuple[str, torch.device]:
    """The process-group backend and this rank's device, the same choice on every rank.

    `local_world_size` is the number of ranks on this machine (torchrun's LOCAL_WORLD_SIZE).
    NCCL and cuda:<local_rank> when the machine has a CUDA GPU for every local rank
    (torch.cuda.device_count() >= local_world_size); otherwise gloo and the CPU for every rank —
    also with one GPU and two ranks: a process group uses one backend, and NCCL needs a GPU
    per rank.
    """
    # BEGIN SOLUTION
    if torch.cuda.is_available() and torch.cuda.device_count() >= local_world_size:
        return "nccl", torch.device("cuda", local_rank)
    return "gloo", torch.device("cpu")
    # END SOLUTION
