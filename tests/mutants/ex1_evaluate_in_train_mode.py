"""Evaluates with the model left in training mode: BatchNorm uses and updates batch statistics."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_evaluate_uses_eval_mode"]
REPLACE = [("""    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():""", """    total_loss, correct, count = 0.0, 0, 0
    with torch.no_grad():""")]
