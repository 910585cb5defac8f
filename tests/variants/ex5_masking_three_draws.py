"""Correct, differently: the collator's recipe (three Bernoulli draws: choose, 0.8 mask, 0.5 of the rest random)."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_special_tokens_and_padding_never_chosen",
          "checks/test_ex5.py::test_masking_proportions_within_binomial_bounds",
          "checks/test_ex5.py::test_masking_distribution_matches_data_collator",
          "checks/test_ex5.py::test_masking_follows_the_generator"]


def mask_tokens(input_ids, special_tokens_mask, *, mask_token_id, vocab_size, mlm_probability=0.15, generator=None):
    chosen = (torch.rand(input_ids.shape, generator=generator) < mlm_probability) & ~special_tokens_mask
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    to_mask = chosen & (torch.rand(input_ids.shape, generator=generator) < 0.8)
    to_random = chosen & ~to_mask & (torch.rand(input_ids.shape, generator=generator) < 0.5)
    inputs = torch.where(to_mask, torch.full_like(input_ids, mask_token_id), input_ids)
    inputs = torch.where(to_random, torch.randint_like(input_ids, vocab_size, generator=generator), inputs)
    return inputs, labels
