"""normalization="unconditional" as a ratio of the log-probabilities, not the log of the ratio."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_models_loss"]
SAYS = ["normalization='unconditional'"]
REPLACE = [("scores = scores - summed(answer_context)", "scores = scores / summed(answer_context)")]
