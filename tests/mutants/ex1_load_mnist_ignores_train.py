"""load_mnist() always returns the training split, whatever `train` says."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_load_mnist_reads_the_gz_fixture"]
SAYS = ["train=train"]
REPLACE = [("    return datasets.MNIST(str(root), train=train, download=False, transform=transform)",
            "    return datasets.MNIST(str(root), train=True, download=False, transform=transform)")]
