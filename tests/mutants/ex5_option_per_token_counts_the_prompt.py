"""normalization="per_token" divided by the length of the whole sequence, prompt tokens included."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_option_logprobs_match_the_models_loss"]
SAYS = ["normalization='per_token'"]
REPLACE = [('torch.tensor([len(tokenizer(option)["input_ids"]) for option in options])',
            'torch.tensor([len(tokenizer(prompt + option)["input_ids"]) for option in options])')]
