"""Takes the EOS ids from config.json, missing generation_config.json's second EOS id."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
REPLACE = [('ids(generation.get("eos_token_id", config.get("eos_token_id")))', 'ids(config.get("eos_token_id"))')]
