"""Leaves out every hidden path, top-level hidden files (.gitattributes) too, not only those under hidden folders."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_inspect_model_folder"]
SAYS = ["a hidden file itself (.gitattributes) is listed"]
REPLACE = [('if path.is_file() and not any(part.startswith(".") for part in rel.parts[:-1]):',
            'if path.is_file() and not any(part.startswith(".") for part in rel.parts):')]
