"""Patches ordered column by column."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_vit_embeddings_match_transformers"]
REPLACE = [("patches = patches.flatten(2).transpose(1, 2)", "patches = patches.transpose(2, 3).flatten(2).transpose(1, 2)")]
