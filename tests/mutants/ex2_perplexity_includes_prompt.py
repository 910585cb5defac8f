"""Averages the NLL over the prompt tokens too."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_perplexity_matches_the_logits", "checks/test_ex2.py::test_compare_greedy_and_beam"]
REPLACE = [("token_log_probs = log_probs[torch.arange(len(targets)), targets][-len(continuation_ids):]",
            "token_log_probs = log_probs[torch.arange(len(targets)), targets]")]
