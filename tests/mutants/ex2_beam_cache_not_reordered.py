"""Chooses new beams but never reorders the cache: each beam continues another beam's history."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length"]
REPLACE = [("        cache.reorder_cache(beam_idx)\n", "")]
