"""Correct, differently: unlabelled lines named through ax.legend([...]), and y-axis labels instead of titles."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_plot_curves_shows_the_history"]


def plot_curves(history, out_path):
    figure, axes = plt.subplots(2, 1)
    for ax, keys, name in zip(axes, (("train_loss", "val_loss"), ("train_acc", "val_acc")), ("Loss", "Accuracy")):
        for key in keys:
            ax.plot(range(1, len(history[key]) + 1), history[key])
        ax.legend(list(keys))
        ax.set_ylabel(name)
    figure.savefig(out_path)
    return figure
