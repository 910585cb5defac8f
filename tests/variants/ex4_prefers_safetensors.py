"""Correct, differently: takes model.safetensors when the repository has it, else pytorch_model.bin."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_files_to_download_keeps_only_pytorch",
          "checks/test_ex4.py::test_download_clip_fetches_only_what_is_needed"]


def files_to_download(repo_files):
    weights = "model.safetensors" if "model.safetensors" in repo_files else "pytorch_model.bin"
    return [name for name in repo_files if name == weights or name.endswith((".json", ".txt"))]
