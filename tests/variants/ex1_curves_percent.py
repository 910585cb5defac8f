"""Correct, differently: accuracy drawn in percent (the docstring allows fractions or percent)."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_plot_curves_shows_the_history"]
REPLACE = [("""    for key in ("train_acc", "val_acc"):
        acc_ax.plot(epochs, history[key], label=key)""", """    for key in ("train_acc", "val_acc"):
        acc_ax.plot(epochs, [100 * value for value in history[key]], label=key)
    acc_ax.set_ylabel("%")""")]
