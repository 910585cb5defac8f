"""Correct, differently: read_configs gives tuples where the files have lists."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_read_configs", "checks/test_ex4.py::test_read_configs_fills_in_defaults"]
REPLACE = [('''        "image_mean": preprocessor["image_mean"],
        "image_std": preprocessor["image_std"],''', '''        "image_mean": tuple(preprocessor["image_mean"]),
        "image_std": tuple(preprocessor["image_std"]),''')]
