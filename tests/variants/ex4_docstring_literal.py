"""Correct, differently: download_clip written exactly as its docstring recommends, names from huggingface_hub."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_download_clip_fetches_only_what_is_needed"]


def download_clip(local_dir, *, repo_id=REPO_ID, endpoint=None):
    import huggingface_hub
    names = files_to_download(huggingface_hub.HfApi(endpoint=endpoint).list_repo_files(repo_id))
    huggingface_hub.snapshot_download(repo_id, local_dir=local_dir, allow_patterns=names, endpoint=endpoint)
    return Path(local_dir)
