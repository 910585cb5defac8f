"""A float mask together with is_causal: the float branch forgets the causal part (keys j > i stay visible)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa"]
SAYS = ["mask=float+causal"]
REPLACE = [("    if is_causal:\n        length, source = scores.shape[-2:]",
            "    if is_causal and (attn_mask is None or attn_mask.dtype == torch.bool):\n"
            "        length, source = scores.shape[-2:]")]
