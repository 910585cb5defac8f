"""Correct, differently: evaluate() puts the model back in the mode it found it in (the docstring allows either)."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_evaluate_uses_eval_mode", "checks/test_ex1.py::test_train_trains_in_training_mode"]
REPLACE = [("""    model.eval()
    total_loss, correct, count = 0.0, 0, 0""", """    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0"""),
           ("""    return total_loss / count, correct / count""", """    model.train(was_training)
    return total_loss / count, correct / count""")]
