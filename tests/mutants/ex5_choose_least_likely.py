"""choose_option() takes the argmin."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_choose_option_follows_the_normalization"]
REPLACE = [("return int(scores.argmax())", "return int(scores.argmin())")]
