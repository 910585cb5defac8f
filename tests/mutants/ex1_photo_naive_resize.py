"""Shrinks the whole photo to 28x28 and inverts it: the digit is a few grey pixels on a grey page."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_photos_read_by_the_photo_reader",
           "checks/test_ex1.py::test_preprocessed_photo_looks_like_mnist"]


def preprocess_photo(image):
    small = np.asarray(ImageOps.grayscale(image).resize((28, 28)), dtype=np.float64) / 255
    return (torch.tensor(1.0 - small, dtype=torch.float32)[None, None] - MNIST_MEAN) / MNIST_STD
