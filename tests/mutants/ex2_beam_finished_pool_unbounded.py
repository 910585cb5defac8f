"""Keeps every finished hypothesis instead of the best num_beams: the worst finished score (the
early-stopping threshold) is taken over the whole pool, and a row is full once it holds num_beams."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"]
REPLACE = [("best = torch.topk(merged_scores, k).indices",
            "best = torch.argsort(merged_scores, dim=1, descending=True, stable=True)"),
           ("full = is_finished.all(-1, keepdim=True) & (early_stopping is True)",
            "full = (is_finished.sum(-1, keepdim=True) >= k) & (early_stopping is True)"),
           ("worst_finished = torch.where(is_finished, finished_scores.min(-1, keepdim=True).values, neg)",
            "worst_finished = torch.where(is_finished, finished_scores, float('inf')).min(-1, keepdim=True).values\n"
            "        worst_finished = torch.where(is_finished.sum(-1, keepdim=True) >= k, worst_finished, neg)"),
           ("all_full = bool(is_finished.all()) and early_stopping is True",
            "all_full = bool((is_finished.sum(-1) >= k).all()) and early_stopping is True")]
