"""Reads rope_theta and torch_dtype only where transformers 4 wrote them."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
REPLACE = [('rope_theta = config.get("rope_theta", (config.get("rope_parameters") or {}).get("rope_theta"))',
            'rope_theta = config.get("rope_theta", 10000.0)'),
           ('"dtype": config.get("dtype", config.get("torch_dtype")),', '"dtype": config.get("torch_dtype"),')]
