"""A float mask together with is_causal raises, as torch's own function does, instead of applying both."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa"]
REPLACE = [("    if is_causal:\n        length, source = scores.shape[-2:]",
            "    if is_causal and attn_mask is not None and attn_mask.dtype != torch.bool:\n"
            "        raise ValueError(\"a float attn_mask cannot be combined with is_causal\")\n"
            "    if is_causal:\n        length, source = scores.shape[-2:]")]
