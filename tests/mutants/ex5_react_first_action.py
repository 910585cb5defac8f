"""A reply with two Action lines: the loop runs the first one, not the last."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_react_stops_at_the_final_answer"]
SAYS = ["request 3 of 3", "527040"]
REPLACE = [(r're.fullmatch(r"Action:\s*(\w+)\[(.*)\]", actions[-1])', r're.fullmatch(r"Action:\s*(\w+)\[(.*)\]", actions[0])')]
