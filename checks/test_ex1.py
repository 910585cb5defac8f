"""Checks for exercise 1.1-1.4: a hand-written ResNet on real MNIST digits, curves, the best
checkpoint, and photos of digits written on paper. (1.5, the distributed scripts, is in
checks/test_ex1_distributed.py.)

Data: 10,000 real MNIST digits (fixtures/ex1/MNIST, 8,000 train / 2,000 test, see
fixtures/ex1/make_mnist.py); set DLGRADE_MNIST_ROOT to a folder holding the full MNIST to
use it and its official 10k test set instead. No full training runs inside the checks: the
accuracy check reads the checkpoint your training script wrote.
"""
from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset

from dlgrade.checkkit.feedback import expect, expect_type, fail, prose
from dlgrade.checkkit.targets import TargetError
from dlgrade.core.i18n import N_, tr
from dlgrade.core.project import Project

FIXTURES_DIR = Project.locate().fixtures

FILE = "ex1_pytorch.py"
DATA = FIXTURES_DIR / "ex1"
PHOTOS = DATA / "photos"
REFERENCE_MODEL = DATA / "reference_resnet.pt2"
CHECKPOINT = "checkpoints/ex1_best.pt"
MNIST_ENV = "DLGRADE_MNIST_ROOT"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# The accuracy floor, from measured models (best checkpoint by validation accuracy, tested on
# the fixture's 2,000 test digits; one digit is 0.05 pp, the standard error near 99 % ~0.2 pp):
#   recipe                                        seeds    epochs  test accuracy %      where measured
#   reference (20 % validation, loss tie-break)   0/1/2    20      99.55 / 99.05 / 99.35  here, earlier round (seed 0
#                                                                                         re-read today: 99.55)
#   first reference (10 % validation, no tie)     0/1/2    20      99.25 / 98.60 / 99.40  here, earlier round (seed 0
#                                                                                         re-read today: 99.25)
#   independent ResNet-10 (ResNet-D, Kaiming)     3 seeds  20      99.00 / 99.15 / 99.20  reported in issue 16
#   reference recipe, fewer epochs                1 seed   10      98.60                  reported in issue 16
#   reference recipe, 1 epoch on 4,000 digits     0        1       54.55                  here (ex1.3's script run)
#   zero-init residual BN (correct, slow start)   0        20      99.00                  here, 2026-11-29
#   Adam lr 1e-3, cosine decay (correct)          0        20      99.40                  here, 2026-11-29
#   BROKEN: no BatchNorm                          0        20      97.65                  here, 2026-11-29
#   BROKEN: no skip connection (a plain CNN)      0        20      99.35                  here, 2026-11-29
#   BROKEN: 4 layers (stem, one block, head)      0        20      95.10                  here, 2026-11-29
#   BROKEN: trained on unnormalised 0..1 pixels   0        20      67.40 (read normalised, here, 2026-11-29
#           as the checks read every checkpoint; 99.06 % validation in its own 0..1 format)
# (today's rows: `python fixtures/ex1/measure_accuracy.py RECIPE --seed 0`, one thread, 4-72 min
# each on the shared 2-core machine.) Not trained this round: resnet_d, and more seeds.
# The floor sits 1.0 pp under the lowest correct model of today (99.00) and 0.6 pp (12
# digits, ~2 standard errors at 98.6 %) under the lowest ever measured; the broken recipes above
# fall below it, except no skip connection (99.35): accuracy cannot tell it, ex1.1's residual check does.
ACCURACY_MIN = 0.980
# The grader's reference model (fixtures/ex1/reference_resnet.pt2) is not an answer: a checkpoint
# whose logits on the test digits all lie this close to the reference's is the reference.
# Two independently trained models differ by whole logits; a copy by float rounding only.
REFERENCE_ATOL = 1e-3
# Measured here: the reference model reads 60 of the 60 fixture photos through the reference
# preprocessing; through naive resizing of the whole photo (tests/mutants/ex1_photo_naive_resize.py), 6.
PHOTO_MIN = 0.95
# The short run (2 epochs on 1,024 training digits, validation on 256 others) must show
# learning, not speed: validation loss at most SHORT_RUN_LOSS_RATIO of the untrained model's,
# accuracy at least SHORT_RUN_ACC_GAIN above it. Measured here (the check's setup, model seeds
# 0/1/2, loss ratio after/before and accuracy gain):
#   reference recipe            0.32 / 0.27 / 0.27    +0.75 / +0.70 / +0.71
#   ResNet-D shortcuts          0.24 / 0.21 / 0.22    +0.80 / +0.80 / +0.76
#   Adam lr 1e-3, no schedule   0.43 / 0.74 / 0.47    +0.68 / +0.16 / +0.61   (0.297 < the old 0.30 floor)
#   scheduler stepped per epoch 0.68 / 0.70 / 0.67    +0.46 / +0.45 / +0.46
#   zero-init residual BN       0.91 / 0.91 / 0.92    +0.21 / +0.09 / +0.13   (slow, sound)
#   4 layers (stem, 1 block)    0.88 / 0.89 / 0.92    +0.22 / +0.16 / +0.11
#   no BatchNorm at all         1.00 / 1.00 / 1.00    +0.11 / +0.00 / +0.02   (caught by ex1.1's BN check too)
#   no optimizer.step()         1.01 / 1.00 / 1.00    +0.02 / -0.04 / +0.03
# (fixtures/ex1/measure_accuracy.py builds the recipes.) The old absolute floor (val acc >= 0.30)
# failed zero-init residual at 0.227.
SHORT_RUN_LOSS_RATIO = 0.97
SHORT_RUN_ACC_GAIN = 0.05
STEP_HINT = N_("every batch: optimizer.zero_grad(), loss.backward(), optimizer.step(), then the scheduler's step()")
EVAL_BATCH = 96
MEAN_HINT = N_("sum the per-item losses (reduction=\"sum\") and the correct predictions over all batches, then "
              "divide by the number of items: the last batch may be smaller")
SCRIPT_LIMIT = 5000
# Measured on the fixture's 8,000 training digits: the centre of mass sits at 13.99 (median;
# 1st-99th percentile 13.5-14.5) in both axes, and 97 % of the ink (median) lies in the central
# 20x20 box, 87.6 % at the 1st percentile.
MNIST_CENTRE = 14.0
MIN_INK_INSIDE = 0.85

# Time limits catch hangs; they never decide a pass. Measured here with 7 sessions sharing the 2
# cores: the 1-epoch `train` run 74-204 s, `predict` 27-62 s, the short training runs 25-39 s.
pytestmark = [pytest.mark.time_limit(60)]
SCRIPT_TIMEOUT_S = 420


@pytest.fixture(scope="module")
def ex1(target):
    torch.set_num_threads(1)  # reported on a loaded 2-core box: 2 threads 83 s per epoch vs 5 s with one
    return target.module(FILE)


def read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def raw_folder() -> Path:
    return Path(os.environ[MNIST_ENV]) / "MNIST" / "raw" if os.environ.get(MNIST_ENV) else DATA / "MNIST" / "raw"


def idx_file(split: str, kind: str) -> Path:
    stem = f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"
    plain = raw_folder() / stem
    return plain if plain.exists() else plain.with_name(stem + ".gz")


@pytest.fixture(scope="session")
def mnist_tensors():
    """The check's own reading of the IDX files: (train images, train labels, test images, test labels)."""
    def load(split):
        images = torch.tensor(read_idx(idx_file(split, "images")), dtype=torch.float32) / 255
        labels = torch.tensor(read_idx(idx_file(split, "labels")), dtype=torch.long)
        return ((images - MNIST_MEAN) / MNIST_STD)[:, None], labels
    return (*load("train"), *load("t10k"))


@pytest.fixture(scope="session")
def gz_only_root(tmp_path_factory):
    """A data root holding only MNIST's .gz files, as the fixture ships them."""
    root = tmp_path_factory.mktemp("mnist")
    (root / "MNIST" / "raw").mkdir(parents=True)
    for path in (DATA / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(path, root / "MNIST" / "raw" / path.name)
    return root


@pytest.fixture(scope="session")
def reference_model():
    """The grader's trained ResNet as an exported program (no .eval()/.train(): export fixed its mode)."""
    return torch.export.load(REFERENCE_MODEL).module()


@pytest.fixture(scope="session")
def reference_test_logits(reference_model, mnist_tensors):
    test_x = mnist_tensors[2]
    with torch.no_grad():
        return torch.cat([reference_model(test_x[i: i + 500]) for i in range(0, len(test_x), 500)])


def run_exercise_script(target, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """`python <target>/ex1_pytorch.py ARGS` in a subprocess; a stub's NotImplementedError means not started."""
    proc = subprocess.run([sys.executable, str(target.script(FILE)), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0 and "NotImplementedError" in proc.stderr:
        raise TargetError(tr("{script} {command}: main() still raises NotImplementedError",
                             script=f"{target.label}/{FILE}", command=args[0]),
                          not_started=True)
    return proc


def fresh_model(ex1, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = ex1.build_resnet()
    expect(isinstance(model, nn.Module), tr("build_resnet() returns an nn.Module"), got=type(model).__name__)
    return model


def measure(request, key: str, value: str) -> None:
    """A measurement in the results (the record_property fixture warns under junit_family xunit2)."""
    request.node.user_properties.append((key, value))


def logits_of(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The model's logits in eval mode, in chunks; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(images[i: i + 500]).float() for i in range(0, len(images), 500)])
    model.train(was_training)
    return logits


def own_evaluation(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """The check's own (mean cross-entropy, accuracy) of the model in eval mode."""
    logits = logits_of(model, images)
    return F.cross_entropy(logits, labels).item(), (logits.argmax(1) == labels).float().mean().item()


def expect_history(history: object, epochs: int) -> None:
    expect_type(history, dict, tr("{function}()'s return value", function="train"))
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        expect(len(history.get(key, [])) == epochs, tr("history[{key}] has one value per epoch", key=repr(key)),
               expected=epochs,
               got=history.get(key))


# ---------------------------------------------------------------- ex1.1 the ResNet


@pytest.mark.item("ex1.1")
def test_resnet_shape_and_size(ex1):
    model = fresh_model(ex1).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 1, 28, 28))
    expect(tuple(out.shape) == (3, 10), tr("output shape for a batch of 3 digits"), expected=(3, 10),
           got=tuple(out.shape))
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    expect(8 <= len(layers) <= 14, tr("number of weight layers (Conv2d + Linear)"),
           expected=prose(tr("8-14 (about 10)")),
           got=len(layers))
    expect(any(isinstance(m, nn.BatchNorm2d) for m in model.modules()), tr("the blocks use BatchNorm2d"))
    params = sum(p.numel() for p in model.parameters())
    expect(50_000 <= params <= 5_000_000, tr("parameter count"), expected=prose("50k-5M"), got=params)


@pytest.mark.item("ex1.1")
def test_residual_connections_are_there(ex1):
    """With every convolution of a block zeroed, an identity-shortcut block passes its input through."""
    model = fresh_model(ex1).eval()
    blocks = list(getattr(model, "blocks", []))
    expect(len(blocks) >= 2, tr("model.blocks should list the residual blocks"),
           got=prose(tr("{count} blocks", count=len(blocks))),
           hint=tr("keep the blocks in an nn.Sequential attribute named `blocks`"))
    inputs = {}
    handles = [b.register_forward_pre_hook(lambda m, args, i=i: inputs.setdefault(i, args[0].detach()))
               for i, b in enumerate(blocks)]
    with torch.no_grad():
        model(torch.randn(4, 1, 28, 28))
    for handle in handles:
        handle.remove()
    checked = 0
    for i, block in enumerate(blocks):
        x = inputs[i].abs()  # what a block sees after a ReLU: non-negative
        with torch.no_grad():
            if block(x).shape != x.shape:
                continue  # a projection shortcut: zeroing would zero the shortcut too
            for module in block.modules():
                if isinstance(module, nn.Conv2d):
                    module.weight.zero_()
                    if module.bias is not None:
                        module.bias.zero_()
            out = block(x)
        expect(torch.allclose(out, x, atol=1e-5),
               tr("block {index} with its convolutions zeroed should return its input", index=i),
               expected=prose(tr("output == input (the skip connection)")),
               got=prose(tr("max difference {difference}", difference=f"{(out - x).abs().max():.3g}")),
               hint=tr("out = F(x) + x: add the block's input to the output of its convolutions"))
        checked += 1
    expect(checked >= 1, tr("at least one block keeps its input's shape (identity shortcut)"),
           got=prose(tr("every block changes the shape")))


@pytest.mark.item("ex1.1")
def test_load_mnist_reads_the_gz_fixture(ex1, gz_only_root, mnist_tensors):
    dataset = ex1.load_mnist(gz_only_root, train=False)
    expect(len(dataset) == len(mnist_tensors[3]), tr("test split size"), expected=len(mnist_tensors[3]),
           got=len(dataset))
    image, label = dataset[0]
    expect(isinstance(image, torch.Tensor) and tuple(image.shape) == (1, 28, 28),
           tr("one item is a (1, 28, 28) tensor"), got=getattr(image, "shape", type(image).__name__))
    expect(torch.allclose(image, mnist_tensors[2][0], atol=1e-5) and int(label) == int(mnist_tensors[3][0]),
           tr("the first test digit, normalised with MNIST's mean 0.1307 and std 0.3081"),
           hint=tr("transforms.ToTensor() then transforms.Normalize((0.1307,), (0.3081,))"))


@pytest.mark.item("ex1.1")
def test_evaluate_uses_eval_mode(ex1, mnist_tensors):
    model = fresh_model(ex1)
    _, _, test_x, test_y = mnist_tensors
    data = TensorDataset(test_x[:256], test_y[:256])
    model.train()
    with torch.no_grad():  # give BatchNorm running statistics that differ from any one batch's
        for _ in range(3):
            model(test_x[256:512] * 2)
    stats = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    # 96 + 96 + 64: a ragged last batch, so a mean of per-batch means (or dividing by batches x
    # batch size) differs from the mean over the items.
    loss, accuracy = ex1.evaluate(model, DataLoader(data, batch_size=EVAL_BATCH))
    after = {k: v for k, v in model.state_dict().items() if "running" in k}
    expect(all(torch.equal(stats[k], after[k]) for k in stats), tr("evaluate() changed BatchNorm's running statistics"),
           hint=tr("call model.eval() before evaluating (and torch.no_grad())"))
    model.eval()
    with torch.no_grad():
        logits = model(data.tensors[0])
    wanted = (logits.argmax(1) == data.tensors[1]).float().mean().item()
    wanted_loss = nn.functional.cross_entropy(logits, data.tensors[1]).item()
    expect(abs(accuracy - wanted) < 1e-6,
           tr("evaluate() accuracy over 256 digits in batches of {batch}", batch=EVAL_BATCH),
           expected=wanted, got=accuracy, hint=tr(MEAN_HINT))
    expect(abs(loss - wanted_loss) < 1e-4,
           tr("evaluate() mean cross-entropy over 256 digits in batches of {batch}", batch=EVAL_BATCH),
           expected=wanted_loss, got=loss, hint=tr(MEAN_HINT))


@pytest.mark.item("ex1.1")
@pytest.mark.time_limit(180)
def test_short_training_run_learns(ex1, mnist_tensors, request):
    """Learning, not speed: the validation loss must fall well below the untrained model's and
    the accuracy rise clearly above it (see SHORT_RUN_* for what sound and broken recipes do)."""
    train_x, train_y, _, _ = mnist_tensors
    model = fresh_model(ex1)
    val_x, val_y = train_x[1024:1280], train_y[1024:1280]
    before_loss, before_acc = own_evaluation(model, val_x, val_y)
    train_loader = DataLoader(TensorDataset(train_x[:1024], train_y[:1024]), batch_size=64, shuffle=True,
                              generator=torch.Generator().manual_seed(0))
    history = ex1.train(model, train_loader, DataLoader(TensorDataset(val_x, val_y), batch_size=256), 2)
    expect_history(history, 2)
    after_loss, after_acc = own_evaluation(model, val_x, val_y)
    measure(request, "short_run", f"val loss {before_loss:.2f} -> {after_loss:.2f}, acc {before_acc:.3f} -> "
                                  f"{after_acc:.3f}")
    expect(history["train_loss"][1] < history["train_loss"][0], tr("the training loss should fall from epoch 1 to 2"),
           got=history["train_loss"], hint=tr(STEP_HINT))
    expect(after_loss <= SHORT_RUN_LOSS_RATIO * before_loss and after_acc >= before_acc + SHORT_RUN_ACC_GAIN,
           tr("after 2 epochs on 1,024 digits the model should have learned: validation loss and accuracy against "
              "the untrained model's"),
           expected=prose(tr("loss <= {ratio} x {before_loss}, accuracy >= {before_acc} + {gain}",
                             ratio=f"{SHORT_RUN_LOSS_RATIO:g}", before_loss=f"{before_loss:.2f}",
                             before_acc=f"{before_acc:.3f}", gain=f"{SHORT_RUN_ACC_GAIN:g}")),
           got=prose(tr("loss {loss}, accuracy {accuracy}", loss=f"{after_loss:.2f}", accuracy=f"{after_acc:.3f}")),
           hint=tr(STEP_HINT))


@pytest.mark.item("ex1.1", weight=2)
def test_saved_checkpoint_accuracy(ex1, target, mnist_tensors, reference_test_logits, request):
    try:
        path = target.path(CHECKPOINT)
    except TargetError:
        raise TargetError(tr("no trained checkpoint at {checkpoint}: train it with `python {script} train --data "
                             "fixtures/ex1 --out {checkpoint}` (about 5 minutes on one CPU core)",
                             checkpoint=f"{target.label}/{CHECKPOINT}", script=f"{target.label}/{FILE}"),
                          not_started=True) from None
    model = fresh_model(ex1)
    meta = ex1.load_checkpoint(path, model)
    expect_type(meta, dict, tr("load_checkpoint()'s return value (the metadata)"))
    _, _, test_x, test_y = mnist_tensors
    logits = logits_of(model, test_x)
    expect(not torch.allclose(logits, reference_test_logits, atol=REFERENCE_ATOL, rtol=0),
           tr("{checkpoint} gives the grader's reference model's logits on every test digit: it is the reference "
              "model (fixtures/ex1/reference_resnet.pt2), not a model you trained",
              checkpoint=f"{target.label}/{CHECKPOINT}"),
           hint=tr("train your own: `python {script} train --data fixtures/ex1`", script=f"{target.label}/{FILE}"))
    accuracy = (logits.argmax(1) == test_y).float().mean().item()
    measure(request, "test_accuracy", f"{accuracy:.2%} of {len(test_y)}")
    expect(accuracy >= ACCURACY_MIN, tr("test accuracy of {checkpoint}", checkpoint=f"{target.label}/{CHECKPOINT}"),
           expected=prose(f">= {ACCURACY_MIN:.1%}"), got=prose(f"{accuracy:.2%}"),
           hint=tr("the reference recipe: SGD Nesterov, OneCycle to lr 0.1, weight decay 5e-4, batch 128, light "
                   "random-affine augmentation, 20 epochs; train on normalised digits, as the checks test them"))


# ---------------------------------------------------------------- ex1.2 curves


HISTORY = {"train_loss": [1.2, 0.5, 0.31, 0.2], "val_loss": [0.9, 0.45, 0.35, 0.33],
           "train_acc": [0.61, 0.85, 0.91, 0.94], "val_acc": [0.7, 0.86, 0.9, 0.905]}


def labelled_lines(ax) -> list[tuple[object, str]]:
    """(line, label) for each line of an axis: its own label (`plot(..., label=key)`), or the
    legend entry drawn with it (`ax.legend([...])` names unlabelled lines in plotting order)."""
    lines = ax.get_lines()
    labels = [line.get_label() for line in lines]
    legend = ax.get_legend()
    if legend is not None:
        unnamed = [i for i, label in enumerate(labels) if label.startswith("_")]
        texts = [text.get_text() for text in legend.get_texts()]
        if len(texts) == len(lines):
            labels = [label if not label.startswith("_") else texts[i] for i, label in enumerate(labels)]
        else:
            for i, text in zip(unnamed, texts):
                labels[i] = text
    return list(zip(lines, labels))


@pytest.mark.item("ex1.2")
def test_plot_curves_shows_the_history(ex1, tmp_path):
    import matplotlib.pyplot as plt

    out = tmp_path / "curves.png"
    figure = ex1.plot_curves(dict(HISTORY), out)
    expect(isinstance(figure, plt.Figure), tr("plot_curves() returns the matplotlib Figure"),
           got=type(figure).__name__)
    lines = {}
    for ax in figure.axes:
        words = f"{ax.get_title()} {ax.get_ylabel()}".lower()
        kind = "loss" if "loss" in words else "accuracy" if "acc" in words else None
        for line, label in labelled_lines(ax):
            lines.setdefault(kind, []).append((label, list(map(float, line.get_ydata()))))
    for kind, keys in (("loss", ("train_loss", "val_loss")), ("accuracy", ("train_acc", "val_acc"))):
        expect(kind in lines, tr("an axis titled (or labelled) with {kind}", kind=repr(kind)),
               got=sorted(k for k in lines if k))
        for key in keys:
            expect(any(np.allclose(ydata, HISTORY[key]) and label == key for label, ydata in lines[kind]),
                   tr("the {kind} axis should have a line labelled {key} with history[{key}]", kind=kind,
                      key=repr(key)),
                   got=[(label, ydata) for label, ydata in lines[kind]])
    expect(out.is_file(), tr("plot_curves() must save the PNG"))
    with Image.open(out) as png:
        expect(png.format == "PNG" and min(png.size) > 100, tr("a valid PNG image"), got=(png.format, png.size))
    plt.close(figure)


# ---------------------------------------------------------------- ex1.3 best checkpoint


@pytest.mark.item("ex1.3")
def test_best_checkpoint_keeps_the_best_validation_epoch(ex1, tmp_path):
    path = tmp_path / "best.pt"
    keeper = ex1.BestCheckpoint(path)
    accuracies = [0.50, 0.91, 0.87, 0.91, 0.62]
    snapshots = []
    model = fresh_model(ex1)
    for epoch, accuracy in enumerate(accuracies, start=1):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01 * epoch)
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        keeper.update(model, epoch, accuracy)
    expect(path.is_file(), tr("BestCheckpoint.update() must save to its path"))
    try:
        data = torch.load(path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the learner-facing reason is the point
        fail(tr("the checkpoint must load with torch.load(path, weights_only=True)"),
             got=prose(f"{type(exc).__name__}: {exc}"[:200]),
             hint=tr("store str(torch.__version__), plain numbers and the state dict only"))
    expect(data.get("epoch") == 2, tr("the saved epoch (best validation accuracy, earliest on ties)"),
           expected=2,
           got=data.get("epoch"))
    expect(abs(float(data.get("val_acc", -1)) - 0.91) < 1e-9, tr("the saved val_acc"), expected=0.91,
           got=data.get("val_acc"))
    expect(isinstance(data.get("torch_version"), str), tr("torch_version is stored as a str"),
           got=type(data.get("torch_version")).__name__)
    restored = fresh_model(ex1, seed=1)
    meta = ex1.load_checkpoint(path, restored)
    same = all(torch.equal(restored.state_dict()[k], snapshots[1][k]) for k in snapshots[1])
    expect(same, tr("load_checkpoint() restores the weights of the best epoch (epoch 2)"))
    expect(meta.get("epoch") == 2 and "state_dict" not in meta, tr("load_checkpoint() returns the metadata only"),
           got=sorted(meta))


@pytest.mark.item("ex1.3")
def test_best_checkpoint_breaks_accuracy_ties_by_loss(ex1, tmp_path):
    path = tmp_path / "best.pt"
    keeper = ex1.BestCheckpoint(path)
    model = fresh_model(ex1)
    for epoch, (accuracy, loss) in enumerate([(0.990, 0.05), (0.995, 0.030), (0.995, 0.021), (0.995, 0.025),
                                              (0.9925, 0.018)], start=1):
        keeper.update(model, epoch, accuracy, loss)
    data = torch.load(path, weights_only=True)
    expect(data.get("epoch") == 3, tr("equal validation accuracy: the lower validation loss wins"),
           expected=3,
           got=data.get("epoch"))


@pytest.mark.item("ex1.3")
def test_validation_is_held_out_from_the_training_split(ex1, mnist_tensors):
    train_x, train_y, _, _ = mnist_tensors
    train_set = TensorDataset(train_x[:1000], train_y[:1000])
    train_part, val_part = ex1.split_train_val(train_set, 0.1, 0)
    for name, part in (("train", train_part), ("validation", val_part)):
        expect(isinstance(part, Subset) and part.dataset is train_set,
               tr("the {part} part is a Subset of train_set", part=name))
    expect(len(val_part) == 100 and len(train_part) == 900, tr("sizes with val_fraction 0.1"),
           expected=(900, 100), got=(len(train_part), len(val_part)))
    expect(not set(train_part.indices) & set(val_part.indices), tr("the two parts must not overlap"))
    again = ex1.split_train_val(train_set, 0.1, 0)[1]
    other = ex1.split_train_val(train_set, 0.1, 1)[1]
    expect(list(again.indices) == list(val_part.indices), tr("the same seed gives the same split"))
    expect(list(other.indices) != list(val_part.indices), tr("another seed gives another split"))


class RecordingCheckpoint:
    """Stands in for BestCheckpoint in train(): records each update() and measures, at that
    moment, the model's accuracy on the validation digits train() was given."""

    def __init__(self, val_x: torch.Tensor, val_y: torch.Tensor):
        self.val_x, self.val_y = val_x, val_y
        self.calls: list[tuple[int, float, float]] = []

    def update(self, model, epoch, val_acc, val_loss=None):
        self.calls.append((epoch, float(val_acc), own_evaluation(model, self.val_x, self.val_y)[1]))
        return False


@pytest.mark.item("ex1.3")
@pytest.mark.time_limit(180)
def test_train_gives_the_checkpoint_each_epochs_validation_accuracy(ex1, mnist_tensors):
    """The selection rule's input: after every epoch, update(model, epoch, accuracy on val_loader)."""
    train_x, train_y, _, _ = mnist_tensors
    val_x, val_y = train_x[512:768], train_y[512:768]
    recorder = RecordingCheckpoint(val_x, val_y)
    torch.manual_seed(0)
    model = fresh_model(ex1)
    train_loader = DataLoader(TensorDataset(train_x[:512], train_y[:512]), batch_size=64, shuffle=True,
                              generator=torch.Generator().manual_seed(0))
    history = ex1.train(model, train_loader, DataLoader(TensorDataset(val_x, val_y), batch_size=100), 2,
                        checkpoint=recorder)
    expect_history(history, 2)
    expect([epoch for epoch, _, _ in recorder.calls] == [1, 2],
           tr("train() calls checkpoint.update(model, epoch, val_acc, val_loss) once per epoch, epochs from 1"),
           expected=[1, 2], got=[epoch for epoch, _, _ in recorder.calls])
    for epoch, given, actual in recorder.calls:
        expect(abs(given - actual) < 1e-6, tr("epoch {epoch}: the val_acc given to checkpoint.update()", epoch=epoch),
               expected=prose(tr("{accuracy}, the model's accuracy on val_loader at that moment",
                                 accuracy=f"{actual:.4f}")),
               got=prose(f"{given:.4f}"),
               hint=tr("give the checkpoint evaluate(model, val_loader)'s accuracy, not the training batches' "
                       "accuracy"))


def write_labels(path: Path, labels: np.ndarray) -> None:
    with gzip.open(path, "wb") as f:
        f.write(b"\x00\x00\x08\x01" + len(labels).to_bytes(4, "big") + labels.astype(np.uint8).tobytes())


@pytest.mark.item("ex1.3")
@pytest.mark.time_limit(SCRIPT_TIMEOUT_S + 60)
def test_training_script_chooses_on_its_validation_part(ex1, target, tmp_path, mnist_tensors):
    """`train --limit 5000 --epochs 1 --seed 0` on a copy of the data whose validation digits
    (split_train_val(first 5,000, VAL_FRACTION, seed 0), known in advance) carry the wrong
    label, digit + 1: the saved val_acc must be the checkpoint's accuracy on exactly those
    digits. Chosen on the validation part, it is near 0 whatever the model learned; chosen on
    the training batches or the test split it is the model's real accuracy there."""
    train_x, train_y, test_x, test_y = mnist_tensors
    fraction = getattr(ex1, "VAL_FRACTION", 0.2)
    _, val_part = ex1.split_train_val(TensorDataset(train_x[:SCRIPT_LIMIT], train_y[:SCRIPT_LIMIT]), fraction, 0)
    rows = torch.tensor(list(val_part.indices), dtype=torch.long)
    root = tmp_path / "data"
    (root / "MNIST" / "raw").mkdir(parents=True)
    for path in (DATA / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(path, root / "MNIST" / "raw" / path.name)
    labels = read_idx(root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz").astype(np.int64)
    labels[rows.numpy()] = (labels[rows.numpy()] + 1) % 10
    write_labels(root / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz", labels)
    out = tmp_path / "best.pt"
    proc = run_exercise_script(target, "train", "--data", str(root), "--out", str(out), "--epochs", "1", "--limit",
                               str(SCRIPT_LIMIT), "--seed", "0", timeout=SCRIPT_TIMEOUT_S)
    expect(proc.returncode == 0, tr("`{script} train` failed", script=FILE),
           got=prose((proc.stderr or proc.stdout)[-300:]))
    expect(out.is_file(), tr("`train` must write the best checkpoint to --out"))
    model = fresh_model(ex1)
    stored = ex1.load_checkpoint(out, model).get("val_acc")
    expect(isinstance(stored, (int, float)), tr("the checkpoint's val_acc is a number"), got=stored)
    _, val_acc = own_evaluation(model, train_x[rows], torch.tensor(labels)[rows])
    _, test_acc = own_evaluation(model, test_x, test_y)
    expect(abs(stored - val_acc) <= 1 / len(rows) + 1e-9,
           tr("the saved val_acc is the checkpoint's accuracy on the validation part (split_train_val(first {limit} "
              "training digits, {fraction}, seed 0): {count} digits, which this check relabelled digit + 1)",
              limit=f"{SCRIPT_LIMIT:,}", fraction=fraction, count=len(rows)),
           expected=prose(f"{val_acc:.4f}"),
           got=prose(tr("{stored} (this checkpoint reads {test_acc} of the test split)", stored=f"{float(stored):.4f}",
                        test_acc=f"{test_acc:.4f}")),
           hint=tr("choose the best epoch by evaluate() on the validation part held out from the training split — "
                   "not on the training batches, never on the test split"))


# ---------------------------------------------------------------- ex1.4 a photo of a digit


def photo_labels() -> dict:
    return json.loads((PHOTOS / "labels.json").read_text())


@pytest.mark.item("ex1.4")
def test_photos_read_by_the_reference_model(ex1, reference_model, request):
    labels = photo_labels()
    wrong = []
    for name, info in labels.items():
        with Image.open(PHOTOS / name) as photo:
            tensor = ex1.preprocess_photo(photo.copy())
        expect(isinstance(tensor, torch.Tensor) and tuple(tensor.shape) == (1, 1, 28, 28),
               tr("preprocess_photo() returns a (1, 1, 28, 28) tensor"), got=getattr(tensor, "shape", type(tensor)))
        with torch.no_grad():
            digit = int(reference_model(tensor.float()).argmax(1))
        if digit != info["digit"]:
            wrong.append(f"{name}: read {digit}")
    rate = 1 - len(wrong) / len(labels)
    measure(request, "photos_read", f"{rate:.1%} of {len(labels)}")
    expect(rate >= PHOTO_MIN, tr("photos the reference model reads right through your preprocessing"),
           expected=prose(f">= {PHOTO_MIN:.0%}"), got=prose(f"{rate:.1%}; {', '.join(wrong[:4])}"),
           hint=tr("dark ink on light paper must become a white digit on black, cropped, 20 px, centred by mass"))


@pytest.mark.item("ex1.4")
def test_preprocessed_photo_looks_like_mnist(ex1):
    for name in list(photo_labels())[::7]:
        with Image.open(PHOTOS / name) as photo:
            tensor = ex1.preprocess_photo(photo.copy())
        image = (tensor[0, 0].double() * MNIST_STD + MNIST_MEAN).clamp(0, 1).numpy()
        expect(image[:3].mean() < 0.1 and image[-3:].mean() < 0.1,
               tr("{photo}: the background should be black (MNIST is white on black) and normalised with MNIST's "
                  "mean and std", photo=name),
               got=prose(tr("border mean {mean}", mean=f"{image[:3].mean():.2f}")))
        ys, xs = np.indices(image.shape)
        mass = image.sum()
        cy, cx = (image * ys).sum() / mass, (image * xs).sum() / mass
        expect(abs(cy - MNIST_CENTRE) <= 1.0 and abs(cx - MNIST_CENTRE) <= 1.0,
               tr("{photo}: centre of mass within 1 px of MNIST's", photo=name),
               expected=prose(f"({MNIST_CENTRE}, {MNIST_CENTRE})"), got=prose(f"({cy:.1f}, {cx:.1f})"))
        inside = image[4:24, 4:24].sum() / mass
        expect(inside >= MIN_INK_INSIDE, tr("{photo}: the digit fits the central 20x20 box", photo=name),
               expected=prose(tr(">= {share} of the ink inside", share=f"{MIN_INK_INSIDE:.0%}")),
               got=prose(f"{inside:.1%}"))


@pytest.mark.item("ex1.4")
@pytest.mark.time_limit(SCRIPT_TIMEOUT_S + 30)
def test_predict_from_the_command_line(ex1, target, tmp_path):
    model = fresh_model(ex1).eval()
    checkpoint = tmp_path / "model.pt"
    ex1.BestCheckpoint(checkpoint).update(model, 1, 0.5)
    photo = PHOTOS / next(iter(photo_labels()))
    with Image.open(photo) as image:
        wanted = ex1.predict_digit(model, image.copy())
    proc = run_exercise_script(target, "predict", str(photo), "--checkpoint", str(checkpoint),
                               timeout=SCRIPT_TIMEOUT_S)
    expect(proc.returncode == 0, tr("`python {script} predict PHOTO --checkpoint CKPT` failed", script=FILE),
           got=prose((proc.stderr or proc.stdout)[-300:]))
    last_line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    # The digit is the last number standing alone on the last line: "7" or "digit0_0.jpg: digit 7".
    digits = re.findall(r"(?<![\w.])\d(?![\w.])", last_line)
    expect(digits and digits[-1] == str(wanted),
           tr("`predict` prints the digit predict_digit() reads, as the last number of its last line"),
           expected=str(wanted), got=last_line)
