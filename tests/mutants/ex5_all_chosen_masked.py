"""Every chosen position becomes [MASK]: no 10 % random, no 10 % kept."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_masking_proportions_within_binomial_bounds",
           "checks/test_ex5.py::test_masking_distribution_matches_data_collator"]
REPLACE = [("inputs[chosen & (action < 0.8)] = mask_token_id", "inputs[chosen] = mask_token_id")]
