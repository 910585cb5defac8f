"""DDP: passes device_ids=[rank] for a CPU model."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process[torchrun]"]
REPLACE = [('ddp = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)',
            "ddp = DistributedDataParallel(model, device_ids=[local_rank])")]
