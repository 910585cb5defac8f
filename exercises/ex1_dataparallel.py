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
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


if __name__ == "__main__":
    main()
