"""Walks state_dict() instead of named_parameters(): the tied lm_head.weight is counted twice."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_describe_model"]
REPLACE = [("for name, p in model.named_parameters()]", "for name, p in model.state_dict().items()]")]
