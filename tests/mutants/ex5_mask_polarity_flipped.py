"""A boolean mask read as True = masked (nn.MultiheadAttention's convention) instead of True = attend."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa", "checks/test_ex5.py::test_mask_meaning"]
REPLACE = [("scores = scores.masked_fill(~attn_mask, float(\"-inf\"))",
            "scores = scores.masked_fill(attn_mask, float(\"-inf\"))"),
           ("mask = None if key_padding_mask is None else ~key_padding_mask[:, None, None, :]",
            "mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]")]
