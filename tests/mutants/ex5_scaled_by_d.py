"""Scores divided by d_k instead of sqrt(d_k)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa",
           "checks/test_ex5.py::test_multi_head_attention_matches_nn_multiheadattention"]
REPLACE = [("scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])",
            "scores = query @ key.transpose(-2, -1) / query.shape[-1]")]
