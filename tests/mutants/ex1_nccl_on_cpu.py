"""Always asks for NCCL, which needs GPUs."""
TARGET = "ex1_distributed_common.py"
CATCHES = ["checks/test_ex1_distributed.py::test_choose_backend"]
REPLACE = [('''    if torch.cuda.is_available() and torch.cuda.device_count() >= local_world_size:
        return "nccl", torch.device("cuda", local_rank)
    return "gloo", torch.device("cpu")''', '''    return "nccl", torch.device("cpu")''')]
