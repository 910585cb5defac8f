"""Downloads only the safetensors weights: no config, no tokenizer."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_download_fetches_what_the_model_needs"]
REPLACE = [("allow_patterns=NEEDED_FILES", "allow_patterns=['*.safetensors']")]
