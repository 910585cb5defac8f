"""Keeps model.safetensors next to pytorch_model.bin: the same weights downloaded twice."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_files_to_download_keeps_only_pytorch[with-safetensors]",
           "checks/test_ex4.py::test_download_clip_fetches_only_what_is_needed"]
SAYS = ["exactly one PyTorch weight file"]
REPLACE = [('return [name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt"))]',
            'return [name for name in repo_files if name.endswith((".bin", ".safetensors", ".json", ".txt"))]')]
