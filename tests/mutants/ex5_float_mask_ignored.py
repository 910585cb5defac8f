"""A float (additive) mask is treated as a boolean one: its values are never added."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa"]
REPLACE = [("            scores = scores + attn_mask\n",
            "            scores = scores.masked_fill(attn_mask == float(\"-inf\"), float(\"-inf\"))\n")]
