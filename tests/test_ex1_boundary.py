"""Exercise 1's checks behind the learner-process boundary (tests/test_learner_process.py shows that
the learner's files are imported in the learner process only): the recipes that build exercise 1's
inputs there and observe what happens there report what they claim (a figure's lines, the steps of
an optimizer, gradients in a forward pass, a simulated machine's GPUs), and the MNIST reader the
checks share with the learner process reads the shipped .gz files as their uncompressed copies."""
from __future__ import annotations

import gzip

import pytest
import torch
from gradelib import REPO_ROOT
from matplotlib.figure import Figure
from torch import nn

from dlgrade.boundary import recipes
from dlgrade.boundary.recipes import training

MNIST_RAW = REPO_ROOT / "fixtures" / "ex1" / "MNIST" / "raw"


def test_the_reader_reads_the_gz_files_as_their_uncompressed_copies(tmp_path):
    for packed in MNIST_RAW.glob("t10k-*.gz"):
        with gzip.open(packed, "rb") as src:
            (tmp_path / packed.stem).write_bytes(src.read())
    assert training.idx_file(tmp_path, "t10k", "images") == tmp_path / "t10k-images-idx3-ubyte"
    packed_images, packed_labels = training.mnist_digits(MNIST_RAW, "t10k")
    plain_images, plain_labels = training.mnist_digits(tmp_path, "t10k")
    assert packed_images.shape == (len(packed_labels), 1, 28, 28) and packed_images.dtype == torch.float32
    assert torch.equal(packed_images, plain_images) and torch.equal(packed_labels, plain_labels)
    # Normalised with MNIST's mean and std: the background is -mean/std.
    assert packed_images.min().item() == pytest.approx(-training.MNIST_MEAN / training.MNIST_STD)


def test_a_loader_holds_the_digits_asked_for_in_an_order_its_seed_fixes():
    images, labels = training.mnist_digits(MNIST_RAW, "train")
    dataset = training.mnist_dataset(MNIST_RAW, "train", 10, 74)
    assert torch.equal(dataset.tensors[0], images[10:74]) and torch.equal(dataset.tensors[1], labels[10:74])
    in_order = torch.cat([y for _, y in training.data_loader(dataset, 16)])
    assert torch.equal(in_order, labels[10:74])
    shuffled = [torch.cat([y for _, y in training.data_loader(dataset, 16, shuffle_seed=0)]) for _ in range(2)]
    assert torch.equal(shuffled[0], shuffled[1]) and not torch.equal(shuffled[0], in_order)


def test_optimizer_steps_are_watched_with_their_learning_rate_and_the_models_mode():
    model = nn.Linear(3, 2)

    def fit(model, rates):
        optimizer = torch.optim.SGD(model.parameters(), lr=rates[0])
        for rate in rates:
            optimizer.param_groups[0]["lr"] = rate
            model.train(rate > 0.15)
            model(torch.ones(1, 3)).sum().backward()
            optimizer.step()
        return "fitted"

    watched = training.call_watching_optimizer_steps(fit, model, [0.1, 0.2, 0.3])
    assert watched == {"value": "fitted", "steps": [[0.1, False], [0.2, True], [0.3, True]]}
    model(torch.ones(1, 3)).sum().backward()
    torch.optim.SGD(model.parameters(), lr=1.0).step()  # the hook is gone: nothing more is recorded
    assert len(watched["steps"]) == 3


def test_gradient_mode_is_watched_at_every_forward_pass_and_logits_keep_the_mode():
    model = nn.Sequential(nn.Linear(4, 10), nn.BatchNorm1d(10)).train()

    def forwards(model):
        model(torch.ones(2, 4))
        with torch.no_grad():
            model(torch.ones(2, 4))
        return 2

    assert training.call_watching_grad_mode(forwards, model) == {"value": 2, "grad_enabled": [True, False]}
    logits = training.logits(model, torch.randn(1001, 4))
    assert logits.shape == (1001, 10) and not logits.requires_grad and model.training


def test_the_recording_checkpoint_keeps_what_it_was_given_and_the_models_logits_then():
    model = nn.Linear(4, 3)
    images = torch.randn(5, 4)
    recorder = training.recording_checkpoint(images)
    assert recorder.update(model, 1, 0.5, torch.tensor(0.25)) is False
    with torch.no_grad():
        model.bias.add_(1.0)
    recorder.update(model, 2, 0.75)
    first, second = recorder.calls
    assert (first["epoch"], first["val_acc"], float(first["val_loss"])) == (1, 0.5, 0.25) and second["val_loss"] is None
    assert torch.allclose(second["logits"] - first["logits"], torch.ones(5, 3))


def test_a_residual_blocks_inputs_are_observed_and_its_convolutions_zeroed():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Conv2d(2, 2, 1))

        def forward(self, x):
            return self.blocks(x)

    net, digits = Net(), torch.randn(2, 1, 5, 5)
    inputs = training.block_inputs(net, digits)
    assert len(inputs) == 3 and torch.equal(inputs[0], digits) and inputs[2].shape == (2, 2, 5, 5)
    training.zero_convolutions(net.blocks)
    assert not net(digits).any()
    assert training.block_inputs(nn.Linear(2, 2), torch.ones(1, 2)) == []


def test_a_figure_is_observed_as_its_axes_lines_and_legends():
    figure = Figure()
    loss, accuracy = figure.subplots(1, 2)
    loss.plot([1, 2, 3], [0.9, 0.5, 0.25], label="train_loss")
    loss.legend()
    loss.set_title("loss")
    accuracy.plot([1, 2], [50.0, 75.0])
    accuracy.set_ylabel("accuracy (%)")
    first, second = recipes.figure_lines(figure)
    assert (first["title"], first["legend"], second["ylabel"], second["legend"]) == (
        "loss", ["train_loss"], "accuracy (%)", None)
    assert first["lines"][0]["label"] == "train_loss" and second["lines"][0]["label"].startswith("_")
    assert first["lines"][0]["x"].tolist() == [1.0, 2.0, 3.0] and second["lines"][0]["y"].tolist() == [50.0, 75.0]


def test_simulated_gpus_answer_for_the_machine_until_the_real_ones_are_put_back():
    real = torch.cuda.device_count, torch.cuda.set_device
    try:
        training.simulate_gpus(2)
        training.simulate_gpus(1)  # a second simulation replaces the first; real_gpus still restores the real ones
        assert torch.cuda.device_count() == 1 and torch.cuda.is_available()
        torch.cuda.set_device(0)
        with pytest.raises(RuntimeError, match="invalid device ordinal 1"):
            torch.cuda.set_device(torch.device("cuda", 1))
    finally:
        training.real_gpus()
    assert (torch.cuda.device_count, torch.cuda.set_device) == real
