"""Leaves the 0..1 pixels without MNIST's mean/std normalisation."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_preprocessed_photo_looks_like_mnist"]
REPLACE = [("    return (tensor - MNIST_MEAN) / MNIST_STD\n", "    return tensor\n")]
