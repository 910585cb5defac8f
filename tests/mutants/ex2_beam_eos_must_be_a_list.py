"""Accepts only a list of EOS ids: a single id (an int) raises."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("eos = [] if eos_token_id is None else [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id)",
            "eos = [] if eos_token_id is None else list(eos_token_id)")]
