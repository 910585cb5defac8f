"""Early-stopping heuristic divides by the generated length plus one (t + 1)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("if early_stopping == \"never\" and length_penalty > 0 else generated", "if early_stopping == \"never\" and length_penalty > 0 else generated + 1")]
