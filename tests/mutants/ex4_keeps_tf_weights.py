"""Drops the Flax weights but keeps the TensorFlow ones."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_files_to_download_keeps_only_pytorch"]
REPLACE = [('return [name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt"))]',
            'return [name for name in repo_files if not name.endswith(".msgpack") and not name.startswith((".", "README"))]')]
