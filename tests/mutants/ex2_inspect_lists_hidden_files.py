"""Lists the files snapshot_download keeps under the hidden .cache/ folder too."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
REPLACE = [('if path.is_file() and not any(part.startswith(".") for part in rel.parts[:-1]):', 'if path.is_file():')]
