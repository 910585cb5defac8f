"""Returns the sequences as int32 (the docstring asks for int64, as input_ids)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length"]
SAYS = ["dtype of the sequences"]
REPLACE = [("return finished[:, 0, :length], finished_scores[:, 0]",
            "return finished[:, 0, :length].to(torch.int32), finished_scores[:, 0]")]
