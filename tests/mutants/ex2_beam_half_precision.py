"""Computes the log-softmax in half precision: scores drift from generate()'s float32 ones."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length"]
REPLACE = [("        log_probs = torch.log_softmax(logits, dim=-1)\n        vocab",
            "        log_probs = torch.log_softmax(logits.half(), dim=-1).float()\n        vocab")]
