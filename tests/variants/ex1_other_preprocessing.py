"""Correct, differently: autocontrast and a fixed ink threshold, box-centred then shifted by mass."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_photos_read_by_the_photo_reader",
          "checks/test_ex1.py::test_preprocessed_photo_looks_like_mnist"]


def preprocess_photo(image):
    gray = ImageOps.grayscale(image)
    paper = gray.resize((64, 64 * gray.height // gray.width)).filter(ImageFilter.MaxFilter(15))
    paper = paper.filter(ImageFilter.MinFilter(15)).filter(ImageFilter.GaussianBlur(6)).resize(gray.size)
    ink = 1 - np.clip(np.asarray(gray, float) / np.maximum(np.asarray(paper, float), 1), 0, 1)
    ink = np.asarray(ImageOps.autocontrast(Image.fromarray((ink * 255).astype(np.uint8)), cutoff=1), float) / 255
    ink[ink < 0.5] = 0
    rows, cols = np.nonzero(ink)
    digit = Image.fromarray((ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1] * 255).astype(np.uint8))
    digit = digit.filter(ImageFilter.MaxFilter(max(3, (max(digit.size) // 14) | 1)))
    digit.thumbnail((20, 20), Image.LANCZOS)
    canvas = Image.new("L", (28, 28))
    canvas.paste(digit, ((28 - digit.width) // 2, (28 - digit.height) // 2))
    a = np.asarray(canvas, float) / 255
    ys, xs = np.indices(a.shape)
    a = np.roll(a, (round(13.5 - (a * ys).sum() / a.sum()), round(13.5 - (a * xs).sum() / a.sum())), axis=(0, 1))
    return (torch.tensor(a, dtype=torch.float32)[None, None] - MNIST_MEAN) / MNIST_STD
