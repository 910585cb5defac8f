"""Loads in float32 when dtype is None instead of keeping the stored dtype (a bfloat16 folder comes back float32)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_load_model"]
REPLACE = [('dtype=dtype if dtype is not None else "auto"', "dtype=dtype or torch.float32")]
