"""15 % of the tokens become [MASK] (the 80 % applied to all positions, not to the chosen ones)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_masking_proportions_within_binomial_bounds",
           "checks/test_ex5.py::test_masking_distribution_matches_data_collator"]
REPLACE = [("chosen = torch.bernoulli(probability, generator=generator).bool()",
            "chosen = torch.bernoulli(probability / 0.8, generator=generator).bool()")]
