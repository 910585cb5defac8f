"""Exercise 5's checks behind the learner-process boundary (tests/test_learner_process.py shows that
the learner's file is imported in the learner process only): the recipes that observe there what
cannot cross (where gradients flow, what a function changed in its arguments, a module's registered
parameters) report it as data."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from dlgrade.boundary.proxy import LearnerProcess
from dlgrade.boundary.recipes import Recipe, papers

LEARNER = '''
def detached_reference(policy, reference):
    return (policy - reference.detach()).square().sum()


def into_the_reference_too(policy, reference):
    return (policy - reference).square().sum()


def in_place(ids):
    ids[0] = -1
    return ids.sum()


def draw(generator):
    import torch
    return torch.rand(3, generator=generator)
'''


def test_gradients_reports_what_reaches_each_argument_and_each_parameter():
    policy, reference = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([0.5, 0.0], requires_grad=True)
    got = papers.gradients(lambda p, r, scale: scale * (p - r.detach()).square().sum(), [policy, reference],
                           {"scale": 3.0})
    assert got["differentiable"] and float(got["value"].detach()) == pytest.approx(3 * (0.25 + 4))
    assert torch.equal(got["arguments"][0], torch.tensor([3.0, 12.0])) and got["arguments"][1] is None
    layer = nn.Linear(2, 1)
    layer.bias.requires_grad_(False)
    layer.weight.grad = torch.ones(1, 2)  # an earlier gradient: cleared before the call
    got = papers.gradients(layer, [torch.tensor([[1.0, 2.0]])], {}, module=layer)
    assert list(got["parameters"]) == ["weight"]
    assert torch.equal(got["parameters"]["weight"], torch.tensor([[1.0, 2.0]]))


def test_gradients_says_when_the_value_carries_no_graph():
    got = papers.gradients(lambda x: x.detach() * 2, [torch.ones(2, requires_grad=True)], {})
    assert not got["differentiable"] and got["arguments"] == [None]


def test_call_keeping_arguments_shows_a_change_made_in_place():
    ids = torch.tensor([1, 2, 3])

    def corrupt(tensor, *, value):
        tensor[0] = value
        return "done"

    got = papers.call_keeping_arguments(corrupt, [ids], {"value": 9})
    assert got["value"] == "done" and got["arguments"][0].tolist() == [9, 2, 3]


def test_named_parameters_keeps_each_parameters_requires_grad_flag():
    layer = nn.Linear(3, 2)
    layer.weight.requires_grad_(False)
    parameters = papers.named_parameters(layer)
    assert sorted(parameters) == ["bias", "weight"]
    assert not parameters["weight"].requires_grad and parameters["bias"].requires_grad


@pytest.mark.slow
def test_gradients_are_observed_in_the_learner_process_and_cross_as_data(tmp_path):
    (tmp_path / "ex9_grad.py").write_text(LEARNER)
    process = LearnerProcess(tmp_path)
    try:
        ex9 = process.module("ex9_grad.py").load()
        inputs = [torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([0.0, 1.0], requires_grad=True)]
        value = ex9.detached_reference(*inputs)
        assert value.requires_grad and value.grad_fn is None  # the flag crosses, the graph does not
        detached = process.recipe("gradients", ex9.detached_reference, inputs, {})
        assert detached["arguments"][1] is None and torch.equal(detached["arguments"][0], torch.tensor([2.0, 2.0]))
        through = process.recipe("gradients", ex9.into_the_reference_too, inputs, {})
        assert torch.equal(through["arguments"][1], torch.tensor([-2.0, -2.0]))
        ids = torch.tensor([4, 5])
        changed = process.recipe("call_keeping_arguments", ex9.in_place, [ids], {})
        assert changed["arguments"][0].tolist() == [-1, 5] and ids.tolist() == [4, 5]
        wanted = torch.rand(3, generator=torch.Generator().manual_seed(7))
        assert torch.equal(ex9.draw(Recipe("seeded_generator", 7)), wanted)
    finally:
        process.stop()
