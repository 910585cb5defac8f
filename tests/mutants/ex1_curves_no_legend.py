"""Labels every line but never draws a legend: the reader cannot tell the curves apart."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_plot_curves_shows_the_history"]
SAYS = ["legend"]
REPLACE = [("""        ax.set_xlabel("epoch")
        ax.legend()
""", """        ax.set_xlabel("epoch")
""")]
