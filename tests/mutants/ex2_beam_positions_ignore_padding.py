"""Position ids 0..prompt_len-1 for every row, ignoring left padding (RoPE hides it from the tokens)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
REPLACE = [("    positions = mask.long().cumsum(-1) - 1\n    positions.masked_fill_(mask == 0, 1)\n",
            "    positions = torch.arange(prompt_len, device=device).expand(batch * k, -1)\n")]
