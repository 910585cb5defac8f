"""DDP: both ranks take the first half of every global batch."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process"]
SAYS = ["first half of each global batch only"]
REPLACE = [("return images[rank * size: (rank + 1) * size], labels[rank * size: (rank + 1) * size]",
            "return images[:size], labels[:size]")]
