"""Correct, differently: feeds the last chosen tokens once more before noticing the search is over
(one forward call whose logits go unused: wasted work, not a cache failure)."""
TARGET = "ex2_llm.py"
PASSES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length",
          "checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches",
          "checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
REPLACE = [("""        if not (bool(can_improve.any()) and not all_full and not bool(hits.all())):
            break
""", """        done = not (bool(can_improve.any()) and not all_full and not bool(hits.all()))
"""),
           ("        next_position = next_position + 1\n", "        next_position = next_position + 1\n        if done:\n            break\n")]
