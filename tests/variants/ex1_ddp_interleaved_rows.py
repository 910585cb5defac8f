"""Correct, differently: DistributedSampler-style interleaved rows (rank, rank + W, ...) instead of halves."""
TARGET = "ex1_ddp.py"
PASSES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process"]
REPLACE = [("""    size = len(images) // world_size
    return images[rank * size: (rank + 1) * size], labels[rank * size: (rank + 1) * size]""",
            """    return images[rank::world_size], labels[rank::world_size]""")]
