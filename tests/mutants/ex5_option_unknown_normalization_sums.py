"""An unknown normalization (a typo such as "per-token") silently gives the plain sum."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_refuses_unknown_normalizations"]
REPLACE = [('        raise ValueError(f"unknown normalization {normalization!r}")', "        pass")]
