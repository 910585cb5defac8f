"""Frequencies theta ** (-i / d) instead of theta ** (-2i / d)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding", "checks/test_ex5.py::test_rope_matches_at_the_paper_base"]
REPLACE = [("* 2 / x.shape[-1])", "/ x.shape[-1])")]
