"""compare_greedy_and_beam always generates 24 new tokens."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_compare_greedy_and_beam"]
REPLACE = [("num_beams=beams, max_new_tokens=max_new_tokens, repetition_penalty=1.0",
            "num_beams=beams, max_new_tokens=24, repetition_penalty=1.0")]
