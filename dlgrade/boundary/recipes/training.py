"""Recipes of exercise 1's checks: inputs for training code (MNIST digits, data loaders, models) built in the
learner process, and observers of what happens there (a model's mode and the learning rate at each optimizer
step, whether gradients are on in a forward pass, what a residual block receives), reported as data.

The MNIST reader here is the checks' own too: the check reads its copy of the digits with `mnist_digits`,
and the learner process builds the datasets it hands to learner code with the same function, from the same
files, so no digit crosses the channel to build an input.
"""
from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlgrade.boundary.recipes import recipe

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# Digits per forward pass when a recipe computes a model's logits: bounded memory on any test set.
LOGITS_CHUNK = 500


def read_idx(path: Path) -> Any:
    """An IDX file (MNIST's format, plain or .gz) as a uint8 numpy array of the shape its header gives."""
    import numpy as np
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def idx_file(raw_folder: Path, split: str, kind: str) -> Path:
    """The IDX file of `split` ("train" or "t10k") and `kind` ("images" or "labels") in an MNIST/raw folder:
    the uncompressed one where it is there, else the .gz."""
    stem = f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    plain = Path(raw_folder) / stem
    return plain if plain.exists() else plain.with_name(stem + ".gz")


def mnist_digits(raw_folder: Path, split: str) -> tuple[Any, Any]:
    """(images normalised with MNIST's mean and std, shape (N, 1, 28, 28) float32; labels (N,) int64) of a split."""
    import torch
    images = torch.tensor(read_idx(idx_file(raw_folder, split, "images")), dtype=torch.float32) / 255
    labels = torch.tensor(read_idx(idx_file(raw_folder, split, "labels")), dtype=torch.long)
    return ((images - MNIST_MEAN) / MNIST_STD)[:, None], labels


@recipe
def mnist_dataset(raw_folder: Path, split: str, start: int, stop: int) -> Any:
    """A TensorDataset of the digits `start:stop` of a split, read from the IDX files of `raw_folder`."""
    from torch.utils.data import TensorDataset
    images, labels = mnist_digits(raw_folder, split)
    return TensorDataset(images[start:stop], labels[start:stop])


@recipe
def data_loader(dataset: Any, batch_size: int, shuffle_seed: int | None = None) -> Any:
    """A DataLoader over `dataset`; shuffled by a generator seeded with `shuffle_seed` when one is given."""
    import torch
    from torch.utils.data import DataLoader
    if shuffle_seed is None:
        return DataLoader(dataset, batch_size=batch_size)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(shuffle_seed))


@recipe
def manual_seed(seed: int) -> None:
    """`torch.manual_seed(seed)` in the learner process: the model learner code builds next has known weights."""
    import torch
    torch.manual_seed(seed)


@recipe
def logits(model: Any, images: Any) -> Any:
    """The model's float logits for `images`, in eval mode and without gradients, in chunks; the model's mode is
    put back afterwards. The forward passes are the learner's, on digits the check sends."""
    import torch
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return torch.cat([model(images[i: i + LOGITS_CHUNK]).float() for i in range(0, len(images), LOGITS_CHUNK)])
    finally:
        model.train(was_training)


@recipe
def module_counts(model: Any, class_paths: list[str]) -> dict[str, int]:
    """How many of `model.modules()` are instances of each torch.nn class named (an observation)."""
    from dlgrade.boundary.recipes import library_class
    modules = list(model.modules())
    return {path: sum(isinstance(m, library_class(path)) for m in modules) for path in class_paths}


@recipe
def parameter_count(model: Any) -> int:
    """The number of values in `model.parameters()` (an observation)."""
    return int(sum(p.numel() for p in model.parameters()))


@recipe
def shift_parameters(model: Any, amount: float) -> None:
    """Add `amount` to every parameter of `model`, without gradients: weights that differ from one epoch to the next."""
    import torch
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(amount)


@recipe
def block_inputs(model: Any, digits: Any) -> list[Any]:
    """What each element of `model.blocks` receives (its first argument) in one forward pass of `digits`
    without gradients; None for an element never called, an empty list for a model without `blocks`
    (an observation: the inputs are what forward pre-hooks saw)."""
    import torch
    blocks = list(getattr(model, "blocks", []))
    seen: dict[int, Any] = {}
    handles = [block.register_forward_pre_hook(lambda m, args, i=i: seen.setdefault(i, args[0].detach()))
               for i, block in enumerate(blocks)]
    try:
        with torch.no_grad():
            model(digits)
    finally:
        for handle in handles:
            handle.remove()
    return [seen.get(i) for i in range(len(blocks))]


@recipe
def zero_convolutions(module: Any) -> None:
    """Set the weights and biases of every Conv2d inside `module` to zero."""
    import torch
    from torch import nn
    with torch.no_grad():
        for inner in module.modules():
            if isinstance(inner, nn.Conv2d):
                inner.weight.zero_()
                if inner.bias is not None:
                    inner.bias.zero_()


@recipe
def subset_indices(subset: Any) -> list[int]:
    """`subset.indices` as a list of ints (learner code may keep a range, a tensor or a list): an observation."""
    return [int(i) for i in subset.indices]


@recipe
def length(obj: Any) -> int:
    """`len(obj)` of a learner object (a dataset, a loader): an observation."""
    return int(len(obj))


@recipe
def call_watching_grad_mode(function: Callable[..., Any], model: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """`function(model, *args, **kwargs)`, with whether gradients were enabled at each forward pass of `model`:
    {"value": what it returned, "grad_enabled": [bool per forward pass]} (an observation: a forward hook)."""
    import torch
    grad_enabled: list[bool] = []
    handle = model.register_forward_hook(lambda *_: grad_enabled.append(torch.is_grad_enabled()))
    try:
        value = function(model, *args, **kwargs)
    finally:
        handle.remove()
    return {"value": value, "grad_enabled": grad_enabled}


@recipe
def call_watching_optimizer_steps(function: Callable[..., Any], model: Any, *args: Any,
                                  **kwargs: Any) -> dict[str, Any]:
    """`function(model, *args, **kwargs)`, with the learning rate of the first parameter group and the model's mode
    at every step of any torch optimizer: {"value": what it returned, "steps": [[lr, training], ...]} (an
    observation: an optimizer step pre-hook)."""
    from torch.optim.optimizer import register_optimizer_step_pre_hook
    steps: list[list[Any]] = []
    handle = register_optimizer_step_pre_hook(
        lambda optimizer, *_: steps.append([float(optimizer.param_groups[0]["lr"]), bool(model.training)]))
    try:
        value = function(model, *args, **kwargs)
    finally:
        handle.remove()
    return {"value": value, "steps": steps}


class RecordingCheckpoint:
    """Stands in for BestCheckpoint in train(): records each update(), with the model's logits on `images` at
    that moment (the check computes the loss and accuracy they mean)."""

    def __init__(self, images: Any):
        self.images = images
        self.calls: list[dict[str, Any]] = []

    def update(self, model: Any, epoch: Any, val_acc: Any, val_loss: Any = None) -> bool:
        self.calls.append({"epoch": epoch, "val_acc": val_acc, "val_loss": val_loss,
                           "logits": logits(model, self.images)})
        return False


@recipe
def recording_checkpoint(images: Any) -> RecordingCheckpoint:
    """A RecordingCheckpoint over `images`; its `calls` are read back as data."""
    return RecordingCheckpoint(images)


# What simulate_gpus replaced, to put back: (owner, attribute name) -> the real attribute.
_REAL_DEVICE_FUNCTIONS: dict[tuple[Any, str], Any] = {}


@recipe
def simulate_gpus(gpus: int) -> None:
    """From now on (until `real_gpus`) the learner process answers as a machine with `gpus` CUDA GPUs, as far as
    choosing a backend and a device asks: torch.cuda's and torch.accelerator's counts, availability, current device
    and setting it (a GPU that does not exist is refused as torch refuses it). Nothing touches a real GPU."""
    import torch
    current = {"index": 0}

    def index_of(device: Any) -> int:
        if isinstance(device, int):
            return device
        device = torch.device(device)
        return current["index"] if device.index is None else device.index

    def set_device(device: Any) -> None:
        index = index_of(device)
        if not 0 <= index < gpus:
            raise RuntimeError(f"CUDA error: invalid device ordinal {index} (simulated machine with {gpus} GPU(s))")
        current["index"] = index

    def current_device() -> int:
        if not gpus:
            raise RuntimeError("Found no NVIDIA driver on your system (simulated machine without GPUs)")
        return current["index"]

    replacements: list[tuple[Any, str, Any]] = [(torch.cuda, name, value) for name, value in [
        ("device_count", lambda: gpus), ("is_available", lambda: gpus > 0),
        ("set_device", set_device), ("current_device", current_device)]]
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None:
        replacements += [(accelerator, name, value) for name, value in [
            ("device_count", lambda: gpus), ("is_available", lambda: gpus > 0),
            ("current_accelerator", lambda *a, **k: torch.device("cuda") if gpus else None),
            ("set_device_index", set_device), ("set_device_idx", set_device),
            ("current_device_index", current_device), ("current_device_idx", current_device)]
            if hasattr(accelerator, name)]
    for owner, name, value in replacements:
        _REAL_DEVICE_FUNCTIONS.setdefault((owner, name), getattr(owner, name))
        setattr(owner, name, value)


@recipe
def real_gpus() -> None:
    """Undo `simulate_gpus`: torch.cuda and torch.accelerator answer for the real machine again."""
    while _REAL_DEVICE_FUNCTIONS:
        (owner, name), value = _REAL_DEVICE_FUNCTIONS.popitem()
        setattr(owner, name, value)
