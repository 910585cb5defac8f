"""Option score averaged over its tokens (length-normalised) instead of summed."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_logits"]
REPLACE = [("scores.append(token_logps[-len(option_ids):].sum())", "scores.append(token_logps[-len(option_ids):].mean())")]
