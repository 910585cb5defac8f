"""Lists the files on the local hub but downloads from the real Hub (endpoint not passed to snapshot_download)."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_download_clip_fetches_only_what_is_needed"]
SAYS = ["the checks run offline, and your code tried to reach huggingface.co"]
REPLACE = [("allow_patterns=names, endpoint=endpoint))", "allow_patterns=names))")]
