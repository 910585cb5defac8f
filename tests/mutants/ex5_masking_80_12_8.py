"""Of the chosen positions 80 % masked, 12 % random, 8 % kept: the random band drawn too wide."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_masking_proportions_within_binomial_bounds"]
SAYS = ["share of chosen positions left unchanged"]
REPLACE = [("randomised = chosen & (action >= 0.8) & (action < 0.9)",
            "randomised = chosen & (action >= 0.8) & (action < 0.92)")]
