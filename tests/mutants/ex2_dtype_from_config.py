"""Reports the dtype stored in the config, not the parameter's (wrong after model.to(bfloat16))."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_describe_model"]
REPLACE = [('"dtype": str(p.dtype),', '"dtype": str(model.config.dtype),')]
