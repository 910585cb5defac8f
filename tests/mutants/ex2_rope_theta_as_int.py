"""Returns rope_theta as the file stores it: an int where a hand-written config has 10000 (the docstring says float)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
SAYS = ["'rope_theta' as float"]
REPLACE = [('"rope_theta": float(rope_theta),', '"rope_theta": rope_theta,')]
