"""Keeps the beam scores in float64 "for precision" and returns them so (the docstring asks for float32)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length"]
SAYS = ["dtype of the scores"]
REPLACE = [("running_scores = torch.zeros(batch, k, device=device)",
            "running_scores = torch.zeros(batch, k, device=device, dtype=torch.float64)"),
           ("finished_scores = torch.full((batch, k), neg, device=device)",
            "finished_scores = torch.full((batch, k), neg, device=device, dtype=torch.float64)"),
           ("        log_probs = torch.log_softmax(logits, dim=-1)\n",
            "        log_probs = torch.log_softmax(logits.double(), dim=-1)\n")]
