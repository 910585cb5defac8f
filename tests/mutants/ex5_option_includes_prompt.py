"""Option score includes the prompt's own log-likelihood."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_models_loss"]
REPLACE = [("scores.append(token_logps[-len(option_ids):].sum())", "scores.append(token_logps.sum())")]
