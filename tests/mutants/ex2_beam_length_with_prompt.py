"""Normalises the score by the total length, prompt included."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length"]
REPLACE = [("new_scores = top_scores / generated ** length_penalty",
            "new_scores = top_scores / (cur_len + 1) ** length_penalty")]
