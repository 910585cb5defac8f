"""Random replacements drawn from the ordinary tokens only, range(5, vocab_size): the special tokens' ids never come up."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_random_replacements_cover_the_vocabulary"]
SAYS = ["never drawn"]
REPLACE = [("random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)",
            "random_ids = torch.randint(5, vocab_size, input_ids.shape, generator=generator)")]
