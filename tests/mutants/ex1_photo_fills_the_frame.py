"""Resizes the cropped digit's longest side to 28 px, filling the frame, instead of 20 px inside it."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_photos_read_by_the_photo_reader",
           "checks/test_ex1.py::test_preprocessed_photo_looks_like_mnist"]
REPLACE = [("    scale = 20 / max(crop.size)", "    scale = 28 / max(crop.size)")]
