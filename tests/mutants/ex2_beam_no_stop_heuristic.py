"""No early-stopping heuristic: the search runs on (and keeps finishing hypotheses) until max length or full sets."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("        can_improve = can_improve & (best_running > worst_finished).any(-1, keepdim=True)\n", "")]
