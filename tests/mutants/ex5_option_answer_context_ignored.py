"""normalization="unconditional" always conditions on "A:", whatever answer_context says."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_models_loss"]
SAYS = ["answer_context='Answer:'"]
REPLACE = [("scores = scores - summed(answer_context)", 'scores = scores - summed("A:")')]
