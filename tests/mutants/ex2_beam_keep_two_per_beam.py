"""Keeps K = 2 * num_beams candidates per step whatever the number of EOS ids (generate keeps (1 + #EOS) * num_beams)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("keep = max(2, 1 + len(eos)) * k", "keep = 2 * k")]
