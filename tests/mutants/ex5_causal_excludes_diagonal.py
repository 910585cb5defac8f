"""The causal mask hides the query's own position too (tril with diagonal=-1)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa",
           "checks/test_ex5.py::test_causal_query_sees_itself_and_the_past"]
REPLACE = [("allowed = torch.ones(length, source, dtype=torch.bool, device=scores.device).tril()",
            "allowed = torch.ones(length, source, dtype=torch.bool, device=scores.device).tril(-1)\n"
            "        allowed[:, 0] = True")]
