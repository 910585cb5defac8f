"""Draws from torch's global generator: the caller's seed does not reproduce the masking."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_masking_follows_the_generator"]
REPLACE = [("action = torch.rand(input_ids.shape, generator=generator)", "action = torch.rand(input_ids.shape)")]
