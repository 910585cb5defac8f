"""Hands in the grader's reference model: load_checkpoint() loads fixtures/ex1/reference_resnet.pt2's weights."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_saved_checkpoint_accuracy",
           "checks/test_ex1.py::test_saved_checkpoint_is_not_the_reference"]
SAYS = ["the grader's reference model's logits"]


def load_checkpoint(path, model):
    from dlgrade.core.project import Project

    reference = torch.export.load(Project.locate().fixtures / "ex1" / "reference_resnet.pt2").module()
    model.load_state_dict(reference.state_dict())
    return {"epoch": 20}
