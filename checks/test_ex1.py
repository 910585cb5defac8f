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
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

from dlgrade.feedback import expect, expect_type, fail
from dlgrade.paths import FIXTURES_DIR
from dlgrade.targets import TargetError

FILE = "ex1_pytorch.py"
DATA = FIXTURES_DIR / "ex1"
PHOTOS = DATA / "photos"
REFERENCE_MODEL = DATA / "reference_resnet.pt2"
CHECKPOINT = "checkpoints/ex1_best.pt"
MNIST_ENV = "DLGRADE_MNIST_ROOT"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
# Measured here (2-core machine, one thread, `ex1_pytorch.py train`, 20 epochs): the reference
# recipe's best checkpoint reads 99.55 % (seed 0, committed), 99.05 % (seed 1), 99.35 % (seed 2)
# of the fixture's 2,000 test digits; with a 10 % validation split and no loss tie-break it was 99.25 / 98.60 /
# 99.40 % (seeds 0-2): a lucky early epoch won on 800 validation digits. One test digit is
# 0.05 pp. 99.0 % is the curriculum's floor, not a tuned value.
ACCURACY_MIN = 0.990
# Measured: the reference model reads PHOTO_NOTE of the 60 fixture photos through the
# reference preprocessing; naive resizing of the whole photo reads PHOTO_NAIVE_NOTE.
PHOTO_MIN = 0.95
# Measured: 2 epochs on 1,024 training digits (seed 0), validation on 256 others: 0.848 with
# the reference recipe, 0.488 with Adam (lr 2e-3, pre-activation blocks); chance is 0.10.
SHORT_RUN_MIN_VAL_ACC = 0.3
# Measured on the fixture's 8,000 training digits: the centre of mass sits at 13.99 (median;
# 1st-99th percentile 13.5-14.5) in both axes, and 97 % of the ink (median) lies in the central
# 20x20 box, 87.6 % at the 1st percentile.
MNIST_CENTRE = 14.0
MIN_INK_INSIDE = 0.85

pytestmark = [pytest.mark.time_limit(60)]


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
    return torch.export.load(REFERENCE_MODEL).module()


def run_exercise_script(target, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """`python <target>/ex1_pytorch.py ARGS` in a subprocess; a stub's NotImplementedError means not started."""
    proc = subprocess.run([sys.executable, str(target.script(FILE)), *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0 and "NotImplementedError" in proc.stderr:
        raise TargetError(f"{target.label}/{FILE} {args[0]}: main() still raises NotImplementedError",
                          not_started=True)
    return proc


def fresh_model(ex1, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    model = ex1.build_resnet()
    expect(isinstance(model, nn.Module), "build_resnet() returns an nn.Module", got=type(model).__name__)
    return model


# ---------------------------------------------------------------- ex1.1 the ResNet


@pytest.mark.item("ex1.1")
def test_resnet_shape_and_size(ex1):
    model = fresh_model(ex1).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 1, 28, 28))
    expect(tuple(out.shape) == (3, 10), "output shape for a batch of 3 digits", expected=(3, 10),
           got=tuple(out.shape))
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    expect(8 <= len(layers) <= 14, "number of weight layers (Conv2d + Linear)", expected="8-14 (about 10)",
           got=len(layers))
    expect(any(isinstance(m, nn.BatchNorm2d) for m in model.modules()), "the blocks use BatchNorm2d")
    params = sum(p.numel() for p in model.parameters())
    expect(50_000 <= params <= 5_000_000, "parameter count", expected="50k-5M", got=f"{params:,}")


@pytest.mark.item("ex1.1")
def test_residual_connections_are_there(ex1):
    """With every convolution of a block zeroed, an identity-shortcut block passes its input through."""
    model = fresh_model(ex1).eval()
    blocks = list(getattr(model, "blocks", []))
    expect(len(blocks) >= 2, "model.blocks should list the residual blocks", got=f"{len(blocks)} blocks",
           hint="keep the blocks in an nn.Sequential attribute named `blocks`")
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
        expect(torch.allclose(out, x, atol=1e-5), f"block {i} with its convolutions zeroed should return its input",
               expected="output == input (the skip connection)", got=f"max difference {(out - x).abs().max():.3g}",
               hint="out = F(x) + x: add the block's input to the output of its convolutions")
        checked += 1
    expect(checked >= 1, "at least one block keeps its input's shape (identity shortcut)",
           got="every block changes the shape")


@pytest.mark.item("ex1.1")
def test_load_mnist_reads_the_gz_fixture(ex1, gz_only_root, mnist_tensors):
    dataset = ex1.load_mnist(gz_only_root, train=False)
    expect(len(dataset) == len(mnist_tensors[3]), "test split size", expected=len(mnist_tensors[3]), got=len(dataset))
    image, label = dataset[0]
    expect(isinstance(image, torch.Tensor) and tuple(image.shape) == (1, 28, 28), "one item is a (1, 28, 28) tensor",
           got=getattr(image, "shape", type(image).__name__))
    expect(torch.allclose(image, mnist_tensors[2][0], atol=1e-5) and int(label) == int(mnist_tensors[3][0]),
           "the first test digit, normalised with MNIST's mean 0.1307 and std 0.3081",
           hint="transforms.ToTensor() then transforms.Normalize((0.1307,), (0.3081,))")


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
    loss, accuracy = ex1.evaluate(model, DataLoader(data, batch_size=64))
    after = {k: v for k, v in model.state_dict().items() if "running" in k}
    expect(all(torch.equal(stats[k], after[k]) for k in stats), "evaluate() changed BatchNorm's running statistics",
           hint="call model.eval() before evaluating (and torch.no_grad())")
    model.eval()
    with torch.no_grad():
        logits = model(data.tensors[0])
    wanted = (logits.argmax(1) == data.tensors[1]).float().mean().item()
    wanted_loss = nn.functional.cross_entropy(logits, data.tensors[1]).item()
    expect(abs(accuracy - wanted) < 1e-6, "evaluate() accuracy", expected=wanted, got=accuracy)
    expect(abs(loss - wanted_loss) < 1e-4, "evaluate() mean cross-entropy", expected=wanted_loss, got=loss)


@pytest.mark.item("ex1.1")
@pytest.mark.time_limit(90)
def test_short_training_run_learns(ex1, mnist_tensors, record_property):
    train_x, train_y, _, _ = mnist_tensors
    torch.manual_seed(0)
    model = fresh_model(ex1)
    train_loader = DataLoader(TensorDataset(train_x[:1024], train_y[:1024]), batch_size=64, shuffle=True,
                              generator=torch.Generator().manual_seed(0))
    val_loader = DataLoader(TensorDataset(train_x[1024:1280], train_y[1024:1280]), batch_size=256)
    history = ex1.train(model, train_loader, val_loader, 2)
    expect_type(history, dict, "train()'s return value")
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        expect(len(history.get(key, [])) == 2, f"history[{key!r}] has one value per epoch", expected=2,
               got=history.get(key))
    record_property("short_run_val_acc", f"{history['val_acc'][-1]:.3f}")
    expect(history["train_loss"][1] < history["train_loss"][0], "the training loss should fall",
           got=history["train_loss"])
    expect(history["val_acc"][-1] >= SHORT_RUN_MIN_VAL_ACC, "validation accuracy after 2 short epochs",
           expected=f">= {SHORT_RUN_MIN_VAL_ACC:.2f} (chance is 0.10)", got=f"{history['val_acc'][-1]:.3f}")


@pytest.mark.item("ex1.1", weight=2)
def test_saved_checkpoint_accuracy(ex1, target, mnist_tensors, record_property):
    try:
        path = target.path(CHECKPOINT)
    except TargetError:
        raise TargetError(f"no trained checkpoint at {target.label}/{CHECKPOINT}: train it with "
                          f"`python {target.label}/{FILE} train --data fixtures/ex1 --out {target.label}/{CHECKPOINT}`"
                          " (about 5 minutes on one CPU core)", not_started=True) from None
    model = fresh_model(ex1)
    meta = ex1.load_checkpoint(path, model)
    expect_type(meta, dict, "load_checkpoint()'s return value (the metadata)")
    model.eval()
    _, _, test_x, test_y = mnist_tensors
    with torch.no_grad():
        predicted = torch.cat([model(test_x[i: i + 500]).argmax(1) for i in range(0, len(test_x), 500)])
    accuracy = (predicted == test_y).float().mean().item()
    record_property("test_accuracy", f"{accuracy:.2%} of {len(test_y)}")
    expect(accuracy >= ACCURACY_MIN, f"test accuracy of {target.label}/{CHECKPOINT}",
           expected=f">= {ACCURACY_MIN:.1%}", got=f"{accuracy:.2%}",
           hint="the reference recipe: SGD Nesterov, OneCycle to lr 0.1, weight decay 5e-4, batch 128, light "
                "random-affine augmentation, 20 epochs")


# ---------------------------------------------------------------- ex1.2 curves


HISTORY = {"train_loss": [1.2, 0.5, 0.31, 0.2], "val_loss": [0.9, 0.45, 0.35, 0.33],
           "train_acc": [0.61, 0.85, 0.91, 0.94], "val_acc": [0.7, 0.86, 0.9, 0.905]}


@pytest.mark.item("ex1.2")
def test_plot_curves_shows_the_history(ex1, tmp_path):
    import matplotlib.pyplot as plt

    out = tmp_path / "curves.png"
    figure = ex1.plot_curves(dict(HISTORY), out)
    expect(isinstance(figure, plt.Figure), "plot_curves() returns the matplotlib Figure", got=type(figure).__name__)
    lines = {}
    for ax in figure.axes:
        words = f"{ax.get_title()} {ax.get_ylabel()}".lower()
        kind = "loss" if "loss" in words else "accuracy" if "acc" in words else None
        for line in ax.get_lines():
            lines.setdefault(kind, []).append((line.get_label(), list(map(float, line.get_ydata()))))
    for kind, keys in (("loss", ("train_loss", "val_loss")), ("accuracy", ("train_acc", "val_acc"))):
        expect(kind in lines, f"an axis titled (or labelled) with {kind!r}", got=sorted(k for k in lines if k))
        for key in keys:
            expect(any(np.allclose(ydata, HISTORY[key]) and label == key for label, ydata in lines[kind]),
                   f"the {kind} axis should have a line labelled {key!r} with history[{key!r}]",
                   got=[(label, ydata) for label, ydata in lines[kind]])
    expect(out.is_file(), "plot_curves() must save the PNG")
    with Image.open(out) as png:
        expect(png.format == "PNG" and min(png.size) > 100, "a valid PNG image", got=(png.format, png.size))
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
    expect(path.is_file(), "BestCheckpoint.update() must save to its path")
    try:
        data = torch.load(path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - the learner-facing reason is the point
        fail("the checkpoint must load with torch.load(path, weights_only=True)",
             got=f"{type(exc).__name__}: {exc}"[:200],
             hint="store str(torch.__version__), plain numbers and the state dict only")
    expect(data.get("epoch") == 2, "the saved epoch (best validation accuracy, earliest on ties)", expected=2,
           got=data.get("epoch"))
    expect(abs(float(data.get("val_acc", -1)) - 0.91) < 1e-9, "the saved val_acc", expected=0.91,
           got=data.get("val_acc"))
    expect(isinstance(data.get("torch_version"), str), "torch_version is stored as a str",
           got=type(data.get("torch_version")).__name__)
    restored = fresh_model(ex1, seed=1)
    meta = ex1.load_checkpoint(path, restored)
    same = all(torch.equal(restored.state_dict()[k], snapshots[1][k]) for k in snapshots[1])
    expect(same, "load_checkpoint() restores the weights of the best epoch (epoch 2)")
    expect(meta.get("epoch") == 2 and "state_dict" not in meta, "load_checkpoint() returns the metadata only",
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
    expect(data.get("epoch") == 3, "equal validation accuracy: the lower validation loss wins", expected=3,
           got=data.get("epoch"))


@pytest.mark.item("ex1.3")
def test_validation_is_held_out_from_the_training_split(ex1, mnist_tensors):
    train_x, train_y, _, _ = mnist_tensors
    train_set = TensorDataset(train_x[:1000], train_y[:1000])
    train_part, val_part = ex1.split_train_val(train_set, 0.1, 0)
    for name, part in (("train", train_part), ("validation", val_part)):
        expect(isinstance(part, Subset) and part.dataset is train_set, f"the {name} part is a Subset of train_set")
    expect(len(val_part) == 100 and len(train_part) == 900, "sizes with val_fraction 0.1",
           expected=(900, 100), got=(len(train_part), len(val_part)))
    expect(not set(train_part.indices) & set(val_part.indices), "the two parts must not overlap")
    again = ex1.split_train_val(train_set, 0.1, 0)[1]
    other = ex1.split_train_val(train_set, 0.1, 1)[1]
    expect(list(again.indices) == list(val_part.indices), "the same seed gives the same split")
    expect(list(other.indices) != list(val_part.indices), "another seed gives another split")


@pytest.mark.item("ex1.3")
@pytest.mark.time_limit(90)
def test_training_script_chooses_on_validation_not_test(ex1, target, tmp_path):
    """Train 1 epoch on 5,000 digits where the test split's labels are scrambled: choosing
    'best' on the test split shows as a validation accuracy near chance (measured: 0.10-0.12),
    a validation split from the training data as 0.85-0.89 (3 seeds, reference script)."""
    root = tmp_path / "data"
    (root / "MNIST" / "raw").mkdir(parents=True)
    for path in (DATA / "MNIST" / "raw").glob("*.gz"):
        shutil.copy(path, root / "MNIST" / "raw" / path.name)
    labels = read_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz").copy()
    np.random.default_rng(0).shuffle(labels)
    with gzip.open(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x01" + len(labels).to_bytes(4, "big") + labels.tobytes())
    out = tmp_path / "best.pt"
    proc = run_exercise_script(target, "train", "--data", str(root), "--out", str(out), "--epochs", "1", "--limit",
                               "5000", timeout=80)
    expect(proc.returncode == 0, f"`{FILE} train` failed", got=(proc.stderr or proc.stdout)[-300:])
    expect(out.is_file(), "`train` must write the best checkpoint to --out")
    meta = torch.load(out, weights_only=True)
    expect(meta.get("val_acc", 0) > 0.5, "the checkpoint's val_acc after one epoch on 5,000 digits",
           expected="> 0.5 (validation held out from the training split)", got=meta.get("val_acc"),
           hint="choose the best epoch on a validation split carved from the training data, never on test")


# ---------------------------------------------------------------- ex1.4 a photo of a digit


def photo_labels() -> dict:
    return json.loads((PHOTOS / "labels.json").read_text())


@pytest.mark.item("ex1.4")
def test_photos_read_by_the_reference_model(ex1, reference_model, record_property):
    labels = photo_labels()
    wrong = []
    for name, info in labels.items():
        with Image.open(PHOTOS / name) as photo:
            tensor = ex1.preprocess_photo(photo.copy())
        expect(isinstance(tensor, torch.Tensor) and tuple(tensor.shape) == (1, 1, 28, 28),
               "preprocess_photo() returns a (1, 1, 28, 28) tensor", got=getattr(tensor, "shape", type(tensor)))
        with torch.no_grad():
            digit = int(reference_model(tensor.float()).argmax(1))
        if digit != info["digit"]:
            wrong.append(f"{name}: read {digit}")
    rate = 1 - len(wrong) / len(labels)
    record_property("photos_read", f"{rate:.1%} of {len(labels)}")
    expect(rate >= PHOTO_MIN, "photos the reference model reads right through your preprocessing",
           expected=f">= {PHOTO_MIN:.0%}", got=f"{rate:.1%}; {', '.join(wrong[:4])}",
           hint="dark ink on light paper must become a white digit on black, cropped, 20 px, centred by mass")


@pytest.mark.item("ex1.4")
def test_preprocessed_photo_looks_like_mnist(ex1):
    for name in list(photo_labels())[::7]:
        with Image.open(PHOTOS / name) as photo:
            tensor = ex1.preprocess_photo(photo.copy())
        image = (tensor[0, 0].double() * MNIST_STD + MNIST_MEAN).clamp(0, 1).numpy()
        expect(image[:3].mean() < 0.1 and image[-3:].mean() < 0.1, f"{name}: the background should be black "
               "(MNIST is white on black) and normalised with MNIST's mean and std",
               got=f"border mean {image[:3].mean():.2f}")
        ys, xs = np.indices(image.shape)
        mass = image.sum()
        cy, cx = (image * ys).sum() / mass, (image * xs).sum() / mass
        expect(abs(cy - MNIST_CENTRE) <= 1.0 and abs(cx - MNIST_CENTRE) <= 1.0,
               f"{name}: centre of mass within 1 px of MNIST's", expected=f"({MNIST_CENTRE}, {MNIST_CENTRE})",
               got=f"({cy:.1f}, {cx:.1f})")
        inside = image[4:24, 4:24].sum() / mass
        expect(inside >= MIN_INK_INSIDE, f"{name}: the digit fits the central 20x20 box",
               expected=f">= {MIN_INK_INSIDE:.0%} of the ink inside", got=f"{inside:.1%}")


@pytest.mark.item("ex1.4")
def test_predict_from_the_command_line(ex1, target, tmp_path):
    model = fresh_model(ex1).eval()
    checkpoint = tmp_path / "model.pt"
    ex1.BestCheckpoint(checkpoint).update(model, 1, 0.5)
    photo = PHOTOS / next(iter(photo_labels()))
    with Image.open(photo) as image:
        wanted = ex1.predict_digit(model, image.copy())
    proc = run_exercise_script(target, "predict", str(photo), "--checkpoint", str(checkpoint), timeout=60)
    expect(proc.returncode == 0, f"`python {FILE} predict PHOTO --checkpoint CKPT` failed",
           got=(proc.stderr or proc.stdout)[-300:])
    printed = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    expect(printed == str(wanted), "`predict` prints the digit predict_digit() reads", expected=wanted, got=printed)
