"""Hands in the grader's reference model with Gaussian noise (sigma 0.01, seed 0) on every parameter: the
largest logit moves by 3.2, 99.4 % of the test digits keep their predicted digit, the accuracy stays 99.35 %
(docs/measurements/ex1.md#reference-copy: the row "noise sigma 0.01", correlation 0.987)."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_saved_checkpoint_accuracy",
           "checks/test_ex1.py::test_saved_checkpoint_is_not_the_reference"]
SAYS = ["the grader's reference model's logits"]


def load_checkpoint(path, model):
    from dlgrade.core.project import Project

    reference = torch.export.load(Project.locate().fixtures / "ex1" / "reference_resnet.pt2").module()
    model.load_state_dict(reference.state_dict())
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.01)
    return {"epoch": 20}
