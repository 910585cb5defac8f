"""Labels keep the original token everywhere: the loss would count unchosen positions."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_special_tokens_and_padding_never_chosen"]
REPLACE = [("    labels[~chosen] = -100\n", "")]
