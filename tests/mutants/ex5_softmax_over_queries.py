"""Attention's softmax over the queries (dim=-2) instead of the keys."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa", "checks/test_ex5.py::test_mask_meaning"]
REPLACE = [("return torch.softmax(scores, dim=-1) @ value", "return torch.softmax(scores, dim=-2) @ value")]
