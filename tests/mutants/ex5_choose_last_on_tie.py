"""choose_option() takes the last of the best options: a stable sort by score, then its last index."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_choose_option_follows_the_normalization"]
SAYS = ["FIRST best option"]
REPLACE = [("return int(scores.argmax())", "return sorted(range(len(options)), key=lambda i: float(scores[i]))[-1]")]
