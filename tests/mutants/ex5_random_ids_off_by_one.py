"""Random replacements from range(vocab_size - 1): the last id is never drawn."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_random_replacements_cover_the_vocabulary"]
SAYS = ["never drawn"]
REPLACE = [("random_ids = torch.randint(vocab_size, input_ids.shape, generator=generator)",
            "random_ids = torch.randint(vocab_size - 1, input_ids.shape, generator=generator)")]
