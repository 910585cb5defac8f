"""Takes the log-softmax in half precision."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_perplexity_matches_the_logits"]
REPLACE = [("log_probs = torch.log_softmax(logits[:-1], dim=-1)", "log_probs = torch.log_softmax(logits[:-1].half(), dim=-1).float()")]
