"""Leaves out repetition_penalty=1.0: generate() applies the model's own 1.05 from generation_config.json."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_compare_greedy_and_beam"]
SAYS = ["the model's own repetition_penalty"]
REPLACE = [("num_beams=beams, max_new_tokens=max_new_tokens, repetition_penalty=1.0)",
            "num_beams=beams, max_new_tokens=max_new_tokens)")]
