"""DDP: every rank trains on the whole global batch (the weights still match: only the row count shows it)."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process[torchrun]"]
REPLACE = [("""    size = len(images) // world_size
    return images[rank * size: (rank + 1) * size], labels[rank * size: (rank + 1) * size]""",
            """    return images, labels""")]
