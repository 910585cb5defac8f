"""Keeps every file of the repository, Flax and TensorFlow weights included."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_files_to_download_keeps_only_pytorch",
           "checks/test_ex4.py::test_download_clip_fetches_only_what_is_needed"]
REPLACE = [('return [name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt"))]',
            "return list(repo_files)")]
