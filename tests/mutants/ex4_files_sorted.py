"""Returns the picked names sorted, not in the order given."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_files_to_download_keeps_only_pytorch[other-order]"]
SAYS = ["in the order given"]
REPLACE = [('return [name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt"))]',
            'return sorted(name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt")))')]
