"""Keeps the photo's dark-on-light polarity: MNIST digits are light on dark."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_photos_read_by_the_photo_reader",
           "checks/test_ex1.py::test_preprocessed_photo_looks_like_mnist"]
REPLACE = [("    canvas = np.roll(canvas, (shift_y, shift_x), axis=(0, 1))\n",
            "    canvas = 1.0 - np.roll(canvas, (shift_y, shift_x), axis=(0, 1))\n")]
