"""Correct, differently: passes the cache under the older name past_key_values= (deprecated in 5.x, still accepted)."""
TARGET = "ex2_llm.py"
PASSES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length",
          "checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
REPLACE = [("position_ids=positions, cache=cache, use_cache=True", "position_ids=positions, past_key_values=cache, use_cache=True"),
           ("position_ids=next_position, cache=cache, use_cache=True",
            "position_ids=next_position, past_key_values=cache, use_cache=True")]
