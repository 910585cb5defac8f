"""Does not count the EOS token in the generated length."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("new_scores = top_scores / generated ** length_penalty",
            "new_scores = top_scores / (generated - torch.isin(token, eos_tensor).long()).clamp(min=1) ** length_penalty")]
