"""Returns a single EOS id as it is, not as a one-element list."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
REPLACE = [('ids(generation.get("eos_token_id", config.get("eos_token_id")))',
            'generation.get("eos_token_id", config.get("eos_token_id"))')]
