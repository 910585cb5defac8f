"""Fills the rows that finished early with the first EOS id even when pad_token_id is given."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
SAYS = ["fills them with 1997 (pad_token_id"]
REPLACE = [("fill = pad_token_id or (eos[0] if eos else -1)", "fill = eos[0] if eos else (pad_token_id or -1)")]
