"""Exercise 1.5 (a): train with nn.DataParallel, as a plain script (one process, all GPUs).

    python exercises/ex1_dataparallel.py --data D --out OUT

Options and the training recipe: see ex1_distributed_common.py; also
    --data-parallel-class M:C   the wrapper class (default torch.nn:DataParallel). nn.DataParallel
                                does nothing without GPUs, so on a CPU-only machine the checks
                                pass a stand-in with the same interface that really splits
                                each batch (dlgrade.checkkit.rank_probes:CpuDataParallel).
Result the checks read: OUT/final_state.pt, the trained model's state dict (no "module." prefix).
"""
from __future__ import annotations

import importlib

import torch
from torch.nn import functional as F

from ex1_distributed_common import build_model, global_batch, load_data, parse_args


def main(argv: list[str] | None = None) -> None:
    """Wrap the model in the data-parallel class (device_ids: every visible GPU, or [0, 1]
    without GPUs), train on each whole global batch — the wrapper splits it across devices and
    gathers the outputs on the first one — with the mean cross-entropy of the gathered outputs
    and SGD; save the unwrapped model's state dict."""
    args = parse_args("Exercise 1.5: DataParallel", argv,
                      lambda p: p.add_argument("--data-parallel-class", default="torch.nn:DataParallel"))
    module_name, class_name = args.data_parallel_class.split(":")
    wrapper = getattr(importlib.import_module(module_name), class_name)
    # BEGIN SOLUTION
    gpus = torch.cuda.device_count()
    device = torch.device("cuda", 0) if gpus else torch.device("cpu")
    model = build_model(args.model_factory, args.seed).to(device)
    parallel = wrapper(model, device_ids=list(range(gpus)) if gpus else [0, 1])
    optimizer = torch.optim.SGD(parallel.parameters(), lr=args.lr)
    images, labels = load_data(args.data)
    for step in range(args.steps):
        x, y = global_batch(images, labels, step, args.global_batch)
        loss = F.cross_entropy(parallel(x.to(device)), y.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.save({k: v.cpu() for k, v in parallel.module.state_dict().items()}, args.out / "final_state.pt")
    # END SOLUTION


if __name__ == "__main__":
    main()
