"""compare_greedy_and_beam always searches with 4 beams."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_compare_greedy_and_beam"]
REPLACE = [('(("greedy", 1), ("beam", num_beams))', '(("greedy", 1), ("beam", 4))')]
