"""Plots the curves against 0..n-1: the first epoch shows as epoch 0."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_plot_curves_shows_the_history"]
SAYS = ["counted from 1"]
REPLACE = [("""    epochs = list(range(1, len(history["train_loss"]) + 1))""",
            """    epochs = list(range(len(history["train_loss"])))""")]
