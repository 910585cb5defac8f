"""Every position may be chosen, [CLS], [SEP] and padding included."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_special_tokens_and_padding_never_chosen"]
REPLACE = [("probability = torch.full(input_ids.shape, mlm_probability).masked_fill(special_tokens_mask, 0.0)",
            "probability = torch.full(input_ids.shape, mlm_probability)")]
