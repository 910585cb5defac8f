"""Assumes every folder has a generation_config.json."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
REPLACE = [('generation = parsed.get("generation_config.json", {})', 'generation = parsed["generation_config.json"]')]
