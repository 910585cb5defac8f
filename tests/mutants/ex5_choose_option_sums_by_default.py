"""choose_option() sums by default: GPT-3 compares per-token likelihoods for most tasks."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_choose_option_follows_the_normalization"]
SAYS = ["choose_option(normalization='per_token')"]
REPLACE = [('options: list[str], *, normalization: str = "per_token",',
            'options: list[str], *, normalization: str = "sum",')]
