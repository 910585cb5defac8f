"""Lets a candidate that hits EOS finish at any rank of the top K, not only in the first num_beams."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("in_top_k = torch.arange(keep, device=device) < k", "in_top_k = torch.arange(keep, device=device) < keep")]
