"""Corrupts input_ids in place instead of a copy."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_special_tokens_and_padding_never_chosen"]
REPLACE = [("inputs, labels = input_ids.clone(), input_ids.clone()", "inputs, labels = input_ids, input_ids.clone()")]
