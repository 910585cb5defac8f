"""Skips flattening the light: the ink is 1 - gray / 255, so a shadow on the paper counts as ink, and the
threshold and the crop take the shadow with the digit."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_photos_read_by_the_photo_reader"]
REPLACE = [("    flat = np.clip(gray / np.maximum(np.asarray(background, dtype=np.float64), 1.0), 0, 1)",
            "    flat = gray / 255")]
