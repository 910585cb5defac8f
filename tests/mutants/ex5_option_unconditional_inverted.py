"""normalization="unconditional" upside down: log P(option | answer_context) - log P(option | prompt)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_models_loss"]
SAYS = ["normalization='unconditional'"]
REPLACE = [("scores = scores - summed(answer_context)", "scores = summed(answer_context) - scores")]
