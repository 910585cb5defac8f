"""练习 1.5 (a)：用 `nn.DataParallel` 训练，写成一个普通的 Python 脚本（一个进程，用上所有 GPU）。

    python exercises/ex1_dataparallel.py --data D --out OUT

选项和训练方法见 `ex1_distributed_common.py`；另外还有
    `--data-parallel-class M:C`   包装模型用的类（默认 `torch.nn:DataParallel`）。没有 GPU 时 `nn.DataParallel`
                                  什么也不做，所以在只有 CPU 的机器上，检查程序会传入一个接口相同、真的会
                                  切分每个 batch 的替身（`dlgrade.checkkit.rank_probes:CpuDataParallel`）。
检查程序读取的结果：`OUT/final_state.pt`，训练好的模型的 state dict（键不带 `"module."` 前缀）。

English:
Exercise 1.5 (a): train with `nn.DataParallel`, as a plain script (one process, all GPUs).

    python exercises/ex1_dataparallel.py --data D --out OUT

Options and the training recipe: see `ex1_distributed_common.py`; also
    `--data-parallel-class M:C`   the wrapper class (default `torch.nn:DataParallel`). `nn.DataParallel`
                                  does nothing without GPUs, so on a CPU-only machine the checks pass a
                                  stand-in with the same interface that really splits each batch
                                  (`dlgrade.checkkit.rank_probes:CpuDataParallel`).
Result the checks read: `OUT/final_state.pt`, the trained model's state dict (no `"module."` prefix).
"""
from __future__ import annotations

import importlib

import torch
from ex1_distributed_common import build_model, global_batch, load_data, parse_args
from torch.nn import functional as F


def main(argv: list[str] | None = None) -> None:
    """把模型包进这个数据并行类（`device_ids`：所有可见的 GPU；没有 GPU 时用 `[0, 1]`），每一步把*整个*
    全局 batch 交给它——它会把这些行切分到各个设备上，再把输出收集（gather）到第一个设备上——对收集到的
    全部输出取平均交叉熵，用 SGD 更新；最后保存去掉包装的模型（`.module`）的 state dict。

    也可以把损失放进被包装的模块里计算：这时 DataParallel 返回每个设备一个损失（长度等于设备数的向量），
    取它的 `.mean()`（各设备分到的行数相同时，它等于所有行的平均交叉熵）。

    English:
    Wrap the model in the data-parallel class (`device_ids`: every visible GPU, or `[0, 1]` without
    GPUs) and give it each *whole* global batch — it splits the rows across the devices and gathers the
    outputs on the first one; take the mean cross-entropy of all the gathered outputs and an SGD step;
    save the unwrapped model's (`.module`) state dict.

    The loss may also be computed inside the wrapped module: DataParallel then returns one loss per
    device (a vector as long as the device count); take its `.mean()` (with equal shares of rows it is
    the mean cross-entropy over all rows).
    """
    args = parse_args("Exercise 1.5: DataParallel", argv,
                      lambda p: p.add_argument("--data-parallel-class", default="torch.nn:DataParallel"))
    module_name, class_name = args.data_parallel_class.split(":")
    wrapper = getattr(importlib.import_module(module_name), class_name)
    raise NotImplementedError("TODO: your code here / 在这里写你的代码")


if __name__ == "__main__":
    main()
