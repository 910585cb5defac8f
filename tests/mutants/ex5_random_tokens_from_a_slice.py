"""Random replacements drawn from the first ten ids only."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_random_replacements_cover_the_vocabulary"]
REPLACE = [("random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)",
            "random_ids = torch.randint(10, input_ids.shape, generator=generator)")]
