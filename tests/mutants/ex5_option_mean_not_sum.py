"""normalization="sum" divided by the token count too: the raw score and GPT-3's per-token score mixed up."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_models_loss"]
SAYS = ["normalization='sum'"]
REPLACE = [('    if normalization == "per_token":\n', '    if normalization != "unconditional":\n')]
