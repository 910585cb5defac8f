"""Plots the validation accuracy under both accuracy labels."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_plot_curves_shows_the_history"]
REPLACE = [("""    for key in ("train_acc", "val_acc"):
        acc_ax.plot(epochs, history[key], label=key)""", """    for key in ("train_acc", "val_acc"):
        acc_ax.plot(epochs, history["val_acc"], label=key)""")]
