"""Correct, differently: choose_backend also makes the rank's GPU current (torch.cuda.set_device) and reads it back."""
TARGET = "ex1_distributed_common.py"
PASSES = ["checks/test_ex1_distributed.py::test_choose_backend"]
REPLACE = [('''    if torch.cuda.is_available() and torch.cuda.device_count() >= local_world_size:
        return "nccl", torch.device("cuda", local_rank)''',
            '''    if torch.cuda.is_available() and torch.cuda.device_count() >= local_world_size:
        torch.cuda.set_device(local_rank)
        return "nccl", torch.device("cuda", torch.cuda.current_device())''')]
