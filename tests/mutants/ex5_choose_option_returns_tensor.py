"""choose_option() returns the 0-d tensor of argmax(), not an int."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_choose_option_follows_the_normalization"]
SAYS = ["Python int"]
REPLACE = [("return int(scores.argmax())", "return scores.argmax()")]
