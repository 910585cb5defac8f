"""Hands in the grader's reference model with 0.01 added to one bias of its head: every logit of class 0
moves by 0.01, more than a rounding tolerance, and the accuracy stays 99.55 %."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_saved_checkpoint_accuracy",
           "checks/test_ex1.py::test_saved_checkpoint_is_not_the_reference"]
SAYS = ["the grader's reference model's logits"]


def load_checkpoint(path, model):
    from dlgrade.core.project import Project

    reference = torch.export.load(Project.locate().fixtures / "ex1" / "reference_resnet.pt2").module()
    state = reference.state_dict()
    state["head.bias"][0] += 0.01
    model.load_state_dict(state)
    return {"epoch": 20}
