"""练习 1：PyTorch 基础——在 MNIST 上手写一个 ResNet，画训练曲线，保存最好的模型，
再识别一张你写在纸上、用手机拍下来的数字。

训练（单核 CPU 大约 5 分钟；准确率检查读取训练写出的 checkpoint）：
    python exercises/ex1_pytorch.py train --data fixtures/ex1 --out exercises/checkpoints/ex1_best.pt
识别你自己拍的照片：
    python exercises/ex1_pytorch.py predict my_digit.jpg --checkpoint exercises/checkpoints/ex1_best.pt

运行检查：`pytest checks/test_ex1.py`（加 `--lang zh` 显示中文提示）；练习 1.5（分布式训练脚本）有单独的
检查：`pytest checks/test_ex1_distributed.py`。

English:
Exercise 1: PyTorch basics — a hand-written ResNet on MNIST, curves, the best checkpoint,
and a photo of a digit written on paper.

Train (about 5 minutes on one CPU core; the accuracy check reads the checkpoint it writes):
    python exercises/ex1_pytorch.py train --data fixtures/ex1 --out exercises/checkpoints/ex1_best.pt
Read your own photo:
    python exercises/ex1_pytorch.py predict my_digit.jpg --checkpoint exercises/checkpoints/ex1_best.pt

Run the checks: `pytest checks/test_ex1.py` (add `--lang zh` for Chinese hints); exercise 1.5, the
distributed scripts, has its own: `pytest checks/test_ex1_distributed.py`.
"""
from __future__ import annotations

import argparse
import gzip
import shutil
import sys
from pathlib import Path

import matplotlib
import numpy as np
import torch
from PIL import Image, ImageFilter, ImageOps
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, Subset
from torchvision import datasets, transforms

# 先选好不弹窗口的后端（Agg），再导入 pyplot。
# Choose the non-interactive backend (Agg) before importing pyplot.
matplotlib.use("Agg")
import matplotlib.pyplot as plt

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
DEFAULT_CHECKPOINT = Path(__file__).parent / "checkpoints" / "ex1_best.pt"
# 验证集取 8,000 张训练数字中的 1,600 张：只取 800 张时，一张数字就占验证准确率的 0.125 个百分点，
# 选出的“最好”epoch 常常是碰巧靠前的一个（实测 3 个种子的测试准确率为 98.6-99.4 %）。
# 1,600 of the 8,000 fixture digits: with 800, one digit is 0.125 pp of validation accuracy and
# the "best" epoch was often a lucky early one (measured: test accuracy 98.6-99.4 % over 3 seeds).
VAL_FRACTION = 0.2


# ---------------------------------------------------------------- 1.1 the model


class BasicBlock(nn.Module):
    """残差块：两个 3x3 卷积，各接一个 BatchNorm，再加上块的输入；当 `stride` 不为 1 或通道数改变时，
    输入先经过 1x1 卷积（加 BatchNorm）投影成相同的形状。

    English:
    Two 3x3 convolutions with BatchNorm, plus the block's input (projected by a 1x1 convolution with
    BatchNorm when `stride` is not 1 or the channel count changes).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        # BEGIN SOLUTION
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # BEGIN SOLUTION
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))
        # END SOLUTION


def build_resnet(num_classes: int = 10, widths: tuple[int, ...] = (16, 32, 64, 128)) -> nn.Module:
    """一个用于 1x28x28 MNIST 数字的小型 ResNet，大约 10 个权重层（`nn.Conv2d` 和 `nn.Linear`）。

    结构：一个 3x3 的 stem 卷积（1 -> `widths[0]` 个通道），接 BatchNorm 和 ReLU；`widths` 中每个宽度
    对应一个残差 `BasicBlock`（第一个 stride 为 1，其余为 2）；全局平均池化；最后一个线性层输出
    `num_classes` 个 logits。

    检查依赖的约定：
    - 输入形状 `(N, 1, 28, 28)`、类型 `torch.float32` -> 输出形状 `(N, num_classes)` 的 logits，不要
      softmax：`F.cross_entropy` 自己会做 log-softmax，输出概率会让损失和训练都出错；
    - `model.blocks` 是按顺序排列残差块的 `nn.Sequential`；至少第一个块保持输入的形状（恒等 shortcut）。

    English:
    A small ResNet for 1x28x28 MNIST digits, about 10 weight layers (`nn.Conv2d` and `nn.Linear`).

    A 3x3 stem convolution (1 -> `widths[0]` channels) with BatchNorm and ReLU; one residual
    `BasicBlock` per width in `widths` (stride 1 for the first, 2 for the others); global average
    pooling; one linear layer to `num_classes` logits.

    Contract the checks rely on:
    - input `(N, 1, 28, 28)` of `torch.float32` -> output `(N, num_classes)` logits, no softmax:
      `F.cross_entropy` applies log-softmax itself, and probabilities spoil the loss and the training;
    - `model.blocks` is an `nn.Sequential` of the residual blocks, in order; at least the first
      keeps its input's shape (an identity shortcut).
    """
    # BEGIN SOLUTION
    class ResNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]),
                                      nn.ReLU(inplace=True))
            blocks, channels = [], widths[0]
            for i, width in enumerate(widths):
                blocks.append(BasicBlock(channels, width, stride=1 if i == 0 else 2))
                channels = width
            self.blocks = nn.Sequential(*blocks)
            self.head = nn.Linear(channels, num_classes)

        def forward(self, x):
            x = self.blocks(self.stem(x))
            return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    return ResNet()
    # END SOLUTION


# ---------------------------------------------------------------- data


def load_mnist(root: str | Path, train: bool) -> Dataset:
    """返回 `torchvision.datasets.MNIST(root, train=train, download=False)`：`train=True` 时是训练集，
    `train=False` 时是测试集；每一项的图像是用 MNIST 的均值 0.1307、标准差 0.3081 归一化后的张量
    （`transforms.ToTensor()`，再 `transforms.Normalize`）。

    torchvision 0.29 在 `ROOT/MNIST/raw/` 里找*解压后*的 IDX 文件；如果那里只有 `.gz` 文件
    （fixtures/ex1 就是这样），先把它们解压到 `.gz` 文件旁边。

    English:
    `torchvision.datasets.MNIST(root, train=train, download=False)`: the training split for
    `train=True`, the test split for `train=False`; each item's image a tensor normalised with MNIST's
    mean 0.1307 and std 0.3081 (`transforms.ToTensor()`, then `transforms.Normalize`).

    torchvision 0.29 looks for the *uncompressed* IDX files in `ROOT/MNIST/raw/`; when only the
    `.gz` files are there (as in fixtures/ex1), decompress them first, next to the `.gz` files.
    """
    # BEGIN SOLUTION
    raw = Path(root) / "MNIST" / "raw"
    for packed in raw.glob("*-ubyte.gz"):
        plain = packed.with_suffix("")
        if not plain.exists():
            with gzip.open(packed, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    return datasets.MNIST(str(root), train=train, download=False, transform=transform)
    # END SOLUTION


def split_train_val(train_set: Dataset, val_fraction: float = 0.1, seed: int = 0) -> tuple[Subset, Subset]:
    """从*训练集*中留出一部分作为验证集（绝不能从测试集里取）。

    返回 `(train_subset, val_subset)`：`train_set` 的两个 `Subset`，互不重叠，合起来正好是整个
    `train_set`；验证集有 `round(len(train_set) * val_fraction)` 项，由一个以 `seed` 为种子的随机排列选出
    （同一个 `seed` 得到同样的划分，不同的 `seed` 得到不同的划分）。

    English:
    Hold out a validation set from the *training* split (never from the test split).

    Returns `(train_subset, val_subset)`: disjoint `Subset`s of `train_set` covering all of it, the
    validation one with `round(len(train_set) * val_fraction)` items, chosen by a random permutation
    seeded with `seed` (the same `seed` gives the same split, another `seed` another split).
    """
    # BEGIN SOLUTION
    order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(seed)).tolist()
    n_val = round(len(train_set) * val_fraction)
    return Subset(train_set, order[n_val:]), Subset(train_set, order[:n_val])
    # END SOLUTION


# ---------------------------------------------------------------- training, evaluation, best checkpoint


def evaluate(model: nn.Module, loader: DataLoader) -> tuple[float, float]:
    """`model` 在 `loader` 上的平均交叉熵损失和准确率，返回 `(loss, accuracy)`，准确率是 0..1 之间的小数。

    对所有样本求平均（最后一个 batch 可能比较小）。用评估模式（`model.eval()`：BatchNorm 使用它的
    running statistics，并且不更新它们），不计算梯度（`torch.no_grad()`）。返回时模型可以留在评估模式：
    `train()` 在每个 epoch 开始时用 `model.train()` 切回训练模式。

    English:
    Mean cross-entropy loss and accuracy of `model` over `loader`, returned as `(loss, accuracy)`,
    the accuracy a fraction 0..1.

    The means are over all items (the last batch may be smaller). Evaluation mode (`model.eval()`:
    BatchNorm uses its running statistics and does not update them) and no gradients
    (`torch.no_grad()`). The model may stay in eval mode: `train()` switches back with
    `model.train()` at the start of every epoch.
    """
    # BEGIN SOLUTION
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    return total_loss / count, correct / count
    # END SOLUTION


class BestCheckpoint:
    """把到目前为止验证准确率最好的模型保存在磁盘上。

    `update(model, epoch, val_acc, val_loss=None)`：当 `val_acc` 超过之前所有的值——或者等于最好的值、
    并且 `val_loss` 比最好那次的更低（验证准确率接近 100% 时经常打平）——就把一个 `dict` 保存到 `path`，
    它的键是 `"state_dict"`（`model.state_dict()`）、`"epoch"`、`"val_acc"`、`"val_loss"` 和
    `"torch_version"`（`str(torch.__version__)`），并返回 `True`；否则什么都不保存，返回 `False`
    （其他打平的情况保留更早的 epoch）。文件必须能用 `torch.load(path, weights_only=True)` 读取：
    版本要存成 `str`，不能存 torch 的版本对象。

    English:
    Keep the model of the best validation accuracy seen so far, on disk.

    `update(model, epoch, val_acc, val_loss=None)` saves a `dict` to `path` when `val_acc` beats every
    earlier one — or equals the best and `val_loss` is lower than the best's (a near-perfect validation
    accuracy ties often) — and returns `True`; its keys are `"state_dict"` (`model.state_dict()`),
    `"epoch"`, `"val_acc"`, `"val_loss"` and `"torch_version"` (`str(torch.__version__)`). Otherwise it
    saves nothing and returns `False` (other ties keep the earlier epoch). The file must load with
    `torch.load(path, weights_only=True)`: store the version as a `str`, not torch's version object.
    """

    def __init__(self, path: str | Path):
        # BEGIN SOLUTION
        self.path = Path(path)
        self.best = float("-inf")
        self.best_loss = float("inf")
        # END SOLUTION

    def update(self, model: nn.Module, epoch: int, val_acc: float, val_loss: float | None = None) -> bool:
        # BEGIN SOLUTION
        loss = float("inf") if val_loss is None else val_loss
        if val_acc < self.best or (val_acc == self.best and loss >= self.best_loss):
            return False
        self.best, self.best_loss = val_acc, loss
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"state_dict": model.state_dict(), "epoch": epoch, "val_acc": float(val_acc),
                    "val_loss": None if val_loss is None else float(val_loss),
                    "torch_version": str(torch.__version__)}, self.path)
        return True
        # END SOLUTION


def load_checkpoint(path: str | Path, model: nn.Module) -> dict:
    """把 `BestCheckpoint` 保存的文件加载进 `model`（用 `torch.load(path, weights_only=True)`），
    返回它的元数据：除 `"state_dict"` 以外所有项组成的 `dict`。

    English:
    Load a `BestCheckpoint` file into `model` (with `torch.load(path, weights_only=True)`) and return
    its metadata: a `dict` of everything but `"state_dict"`.
    """
    # BEGIN SOLUTION
    data = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(data["state_dict"])
    return {key: value for key, value in data.items() if key != "state_dict"}
    # END SOLUTION


def train(model: nn.Module, train_loader: DataLoader, val_loader: DataLoader, epochs: int, *, lr: float = 0.1,
          checkpoint: BestCheckpoint | None = None) -> dict[str, list[float]]:
    """训练 `model`，返回每个 epoch 的记录。

    学习率按 OneCycle 调度（`torch.optim.lr_scheduler.OneCycleLR`），峰值就是参数 `lr`，*每个 batch*
    的 `optimizer.step()` 之后调用一次 `scheduler.step()`（不是每个 epoch 一次）。优化器：准确率门槛是用
    SGD（momentum 0.9、Nesterov、weight decay 5e-4）测出来的；别的优化器也可以，只要训练出的模型达到门槛。
    每个 epoch 开始时调用 `model.train()`（`evaluate()` 会把模型留在评估模式）。每个 epoch 结束后在
    `val_loader` 上调用 `evaluate()`；给了 `checkpoint` 时再调用
    `checkpoint.update(model, epoch, val_acc, val_loss)`：`epoch` 从 1 开始数，`val_loss` 也要传上
    （准确率打平时靠它决定）。

    返回 `{"train_loss": [...], "train_acc": [...], "val_loss": [...], "val_acc": [...]}`，每个 epoch 一个
    `float`；训练损失和训练准确率是这个 epoch 训练各 batch 时（参数更新之前）的平均值。

    English:
    Train `model` and return its per-epoch history.

    The learning rate follows a OneCycle schedule (`torch.optim.lr_scheduler.OneCycleLR`) peaking at
    the argument `lr`, with one `scheduler.step()` after *every batch*'s `optimizer.step()` (not one per
    epoch). Optimizer: the accuracy floor was measured with SGD (momentum 0.9, Nesterov, weight decay
    5e-4); another optimizer is fine if its model reaches the floor. Call `model.train()` at the start
    of every epoch (`evaluate()` leaves the model in eval mode). After each epoch call `evaluate()` on
    `val_loader` and, when a `checkpoint` is given,
    `checkpoint.update(model, epoch, val_acc, val_loss)`: `epoch` counts from 1, and pass `val_loss`
    too (it breaks accuracy ties).

    Returns `{"train_loss": [...], "train_acc": [...], "val_loss": [...], "val_acc": [...]}`, one
    `float` per epoch; the training loss and accuracy are the means over the epoch's batches as they
    were trained (before each update).
    """
    # BEGIN SOLUTION
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, count = 0.0, 0, 0
        for images, labels in train_loader:
            logits = model(images)
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            total_loss += loss.item() * len(labels)
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
        val_loss, val_acc = evaluate(model, val_loader)
        history["train_loss"].append(total_loss / count)
        history["train_acc"].append(correct / count)
        history["val_loss"].append(val_loss)
        history["val_acc"].append(val_acc)
        if checkpoint is not None:
            checkpoint.update(model, epoch, val_acc, val_loss)
    return history
    # END SOLUTION


# ---------------------------------------------------------------- 1.2 curves


def plot_curves(history: dict[str, list[float]], out_path: str | Path) -> plt.Figure:
    """画出一份训练记录的 loss 曲线和 accuracy 曲线，保存成 PNG。

    两个坐标轴：一个的标题（或 y 轴标签）含 "loss"，画 `train_loss` 和 `val_loss` 两条线；另一个的标题
    （或 y 轴标签）含 "accuracy"，画 `train_acc` 和 `val_acc` 两条线。横坐标是 epoch，从 1 数到 n
    （`range(1, n + 1)`）。准确率可以照记录画成 0..1 的小数，也可以乘以 100 画成百分数。每条线都要在
    它所在坐标轴的图例（legend）里以它在 `history` 中的键命名：`ax.plot(..., label=key)` 之后调用
    `ax.legend()`，或者按画线的顺序 `ax.legend([key1, key2])`。保存到 `out_path`，返回这个 figure。

    English:
    Plot the loss and accuracy curves of a training history and save them as a PNG.

    Two axes: one titled (or y-labelled) with "loss", with lines for `train_loss` and `val_loss`; the
    other titled (or y-labelled) with "accuracy", with lines for `train_acc` and `val_acc`. x is the
    epoch, 1 to n (`range(1, n + 1)`). Accuracy may be drawn as recorded (fractions 0..1) or times 100
    (percent). Each line is named by its `history` key in its axis's legend: `ax.plot(..., label=key)`
    then `ax.legend()`, or `ax.legend([key1, key2])` in plotting order. Save to `out_path`; return the
    figure.
    """
    # BEGIN SOLUTION
    epochs = list(range(1, len(history["train_loss"]) + 1))
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for key in ("train_loss", "val_loss"):
        loss_ax.plot(epochs, history[key], label=key)
    for key in ("train_acc", "val_acc"):
        acc_ax.plot(epochs, history[key], label=key)
    loss_ax.set_title("loss")
    acc_ax.set_title("accuracy")
    for ax in (loss_ax, acc_ax):
        ax.set_xlabel("epoch")
        ax.legend()
    figure.tight_layout()
    figure.savefig(out_path)
    return figure
    # END SOLUTION


# ---------------------------------------------------------------- 1.4 a photo of a digit on paper


def preprocess_photo(image: Image.Image) -> torch.Tensor:
    """把一张“浅色纸上写着一个深色数字”的照片变成模型的输入。

    MNIST 的数字是黑底白字，数字缩放到 20x20 的框内，再按质心放在 28x28 画面的正中。所以：转成灰度；
    去除不均匀的光照（除以一张高度模糊的背景图）；反色；阈值化（Otsu）并裁剪到数字；把太细的笔画加粗；
    把最长边缩放到 20 像素；填充成 28x28，按质心居中；用 MNIST 的均值和标准差归一化。

    返回形状为 `(1, 1, 28, 28)`、类型为 `torch.float32` 的张量。

    English:
    Turn a photo of one dark digit written on light paper into the model's input.

    MNIST digits are white on black, the digit fitted in a 20x20 box, centred by its centre
    of mass in a 28x28 frame. So: grayscale; flatten uneven lighting (divide by a heavily
    blurred copy of the background); invert; threshold (Otsu) and crop to the digit;
    thicken thin strokes; resize the longest side to 20 px; pad to 28x28 centred on the
    centre of mass; normalise with MNIST's mean and std.

    Returns a tensor of shape `(1, 1, 28, 28)` and dtype `torch.float32`.
    """
    # BEGIN SOLUTION
    gray_image = ImageOps.grayscale(image)
    gray = np.asarray(gray_image, dtype=np.float64)
    # The paper alone: a grey closing (max then min filter) wider than any pen stroke erases the
    # dark digit and keeps the light paper with its shadows; dividing by it flattens the light.
    # Done on a copy about 64 px small, as a full-size filter that wide is slow.
    small = gray_image.resize((max(8, gray_image.width * 64 // min(gray_image.size)),
                               max(8, gray_image.height * 64 // min(gray_image.size))), Image.BILINEAR)
    size = (min(small.size) // 5) | 1
    background = small.filter(ImageFilter.MaxFilter(size)).filter(ImageFilter.MinFilter(size))
    background = background.filter(ImageFilter.GaussianBlur(size / 2)).resize(gray_image.size, Image.BILINEAR)
    flat = np.clip(gray / np.maximum(np.asarray(background, dtype=np.float64), 1.0), 0, 1)
    ink = 1.0 - flat
    threshold = otsu_threshold(ink)
    mask = ink > threshold
    if not mask.any():
        return torch.full((1, 1, 28, 28), -MNIST_MEAN / MNIST_STD)
    rows, cols = np.nonzero(mask)
    ink = np.where(mask, ink, 0.0)[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    crop = Image.fromarray((ink / ink.max() * 255).astype(np.uint8))
    # MNIST strokes are about 1/7 of the digit's height; thicken thin pen strokes to match
    # (area / height approximates the stroke width of a digit drawn as one line).
    stroke_width = mask.sum() / max(1, rows.max() - rows.min() + 1) / 2.5
    wanted_width = max(crop.size) / 7
    if stroke_width < wanted_width / 2:
        crop = crop.filter(ImageFilter.MaxFilter(int(wanted_width / 2 - stroke_width) * 2 + 1))
    scale = 20 / max(crop.size)
    crop = crop.resize((max(1, round(crop.width * scale)), max(1, round(crop.height * scale))), Image.LANCZOS)
    digit = np.asarray(crop, dtype=np.float64) / 255
    canvas = np.zeros((28, 28))
    top, left = (28 - digit.shape[0]) // 2, (28 - digit.shape[1]) // 2
    canvas[top: top + digit.shape[0], left: left + digit.shape[1]] = digit
    ys, xs = np.indices(canvas.shape)
    cy, cx = (canvas * ys).sum() / canvas.sum(), (canvas * xs).sum() / canvas.sum()
    shift_y, shift_x = int(round(13.5 - cy)), int(round(13.5 - cx))
    canvas = np.roll(canvas, (shift_y, shift_x), axis=(0, 1))
    tensor = torch.tensor(canvas, dtype=torch.float32)[None, None]
    return (tensor - MNIST_MEAN) / MNIST_STD
    # END SOLUTION


def otsu_threshold(values: np.ndarray) -> float:
    """0..1 之间数值的 Otsu 阈值：使两类之间的方差最大的分割点。这个函数已经写好，可以直接用。

    English:
    The Otsu threshold of values in 0..1: the cut that maximises the between-class variance. Given:
    use it as it is.
    """
    histogram, edges = np.histogram(values, bins=256, range=(0.0, 1.0))
    weights = histogram / max(histogram.sum(), 1)
    centres = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(weights)
    m0 = np.cumsum(weights * centres)
    total = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total * w0 - m0) ** 2 / (w0 * (1 - w0))
    return float(centres[np.nanargmax(between)])


def predict_digit(model: nn.Module, image: Image.Image) -> int:
    """`model` 从照片里读出的数字（0-9 的 `int`）：先 `preprocess_photo(image)`，再在评估模式下取 logits 的 argmax。

    English:
    The digit (an `int`, 0-9) `model` reads in a photo: `preprocess_photo(image)`, then the argmax of
    the logits in eval mode.
    """
    # BEGIN SOLUTION
    model.eval()
    with torch.no_grad():
        return int(model(preprocess_photo(image)).argmax(1).item())
    # END SOLUTION


# ---------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> int:
    """命令行：`train` 和 `predict` 两个子命令。

    `train`：用 `load_mnist` 读训练集（给了 `--limit` 就只用前 `--limit` 张）；用
    `split_train_val(..., VAL_FRACTION, --seed)` 留出验证集，只在其余部分上训练——验证集的数字一张也不能
    参与训练；训练时做轻微的数据增强（random affine：旋转 10 度、平移 10 %、缩放 0.9-1.1），训练
    `--epochs` 个 epoch；用 `BestCheckpoint` 把验证准确率最好的那个 epoch（不一定是最后一个）保存到 `--out`，
    训练曲线用 `plot_curves` 保存在它旁边（同名，扩展名 `.png`）；最后打印最好的 epoch、它的验证准确率和
    测试准确率。绝不能用测试集来挑选模型。交上来的检查点必须是你自己的训练写出的：评分时会把它和评分者的
    参考模型比较，参考模型的副本（哪怕改动过几个权重）不得分。
    `predict`：把 `--checkpoint` 加载进 `build_resnet()`，打印从照片中读出的数字，作为最后一行输出里的
    最后一个数（"7"，或 "my_digit.jpg: 7"）。

    English:
    The command line: `train` and `predict`.

    `train`: load the training split with `load_mnist` (only the first `--limit` images when given); hold
    out a validation part with `split_train_val(..., VAL_FRACTION, --seed)` and train on the rest only —
    no validation digit may be trained on; train with light augmentation (random affine: 10 degrees,
    10 % shift, 0.9-1.1 scale) for `--epochs`; keep the best epoch by validation accuracy (not
    necessarily the last) at `--out` with `BestCheckpoint`, and the curves next to it with `plot_curves`
    (same name, `.png`); then print the best epoch, its validation accuracy and the test accuracy.
    Never choose on the test split. The checkpoint you hand in must be one your own training wrote: the
    grader compares it with its own reference model, and a copy of that model (even with a few weights
    changed) scores nothing.
    `predict`: load `--checkpoint` into `build_resnet()` and print the digit read in the photo as the
    last number of the last line printed ("7", or "my_digit.jpg: 7").
    """
    parser = argparse.ArgumentParser(description="Exercise 1: ResNet on MNIST")
    commands = parser.add_subparsers(dest="command", required=True)
    train_cmd = commands.add_parser("train", help="train and keep the best checkpoint by validation accuracy")
    train_cmd.add_argument("--data", default="fixtures/ex1", help="folder holding MNIST/raw/")
    train_cmd.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    train_cmd.add_argument("--epochs", type=int, default=20)
    train_cmd.add_argument("--seed", type=int, default=0)
    train_cmd.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    predict_cmd = commands.add_parser("predict", help="read the digit in a photo")
    predict_cmd.add_argument("photo", type=Path)
    predict_cmd.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    args = parser.parse_args(argv)
    # BEGIN SOLUTION
    if args.command == "predict":
        model = build_resnet()
        load_checkpoint(args.checkpoint, model)
        with Image.open(args.photo) as photo:
            print(predict_digit(model, photo))
        return 0
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)  # reported on this kind of 2-core machine: 2 threads took 83 s per epoch, 1 took 5 s
    augment = transforms.Compose([
        transforms.RandomAffine(degrees=10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
        transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    train_set = load_mnist(args.data, train=True)
    if args.limit:
        train_set = Subset(train_set, range(args.limit))
    train_part, val_part = split_train_val(train_set, VAL_FRACTION, args.seed)
    augmented = datasets.MNIST(args.data, train=True, download=False, transform=augment)
    train_indices = [train_set.indices[i] for i in train_part.indices] if args.limit else train_part.indices
    train_loader = DataLoader(Subset(augmented, train_indices), batch_size=128, shuffle=True)
    val_loader = DataLoader(val_part, batch_size=512)
    model = build_resnet()
    history = train(model, train_loader, val_loader, args.epochs, checkpoint=BestCheckpoint(args.out))
    plot_curves(history, args.out.with_suffix(".png"))
    meta = load_checkpoint(args.out, model)
    _, test_acc = evaluate(model, DataLoader(load_mnist(args.data, train=False), batch_size=512))
    print(f"best epoch {meta['epoch']}: val acc {meta['val_acc']:.4f}, test acc {test_acc:.4f}; saved {args.out}")
    return 0
    # END SOLUTION


if __name__ == "__main__":
    sys.exit(main())
