"""Chooses the backend per rank: with one GPU and two ranks, rank 0 asks for NCCL and rank 1 for gloo."""
TARGET = "ex1_distributed_common.py"
CATCHES = ["checks/test_ex1_distributed.py::test_choose_backend"]
REPLACE = [("    if torch.cuda.is_available() and torch.cuda.device_count() >= local_world_size:",
            "    if torch.cuda.is_available() and torch.cuda.device_count() > local_rank:")]
