"""Treats early_stopping=True like False: full finished sets keep accepting and the search does not stop when they are full."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("full = is_finished.all(-1, keepdim=True) & (early_stopping is True)",
            "full = is_finished.all(-1, keepdim=True) & False"),
           ("all_full = bool(is_finished.all()) and early_stopping is True", "all_full = False")]
