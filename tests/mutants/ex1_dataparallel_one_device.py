"""DataParallel over a single device: nothing is split."""
TARGET = "ex1_dataparallel.py"
CATCHES = ["checks/test_ex1_distributed.py::test_dataparallel_splits_batches_and_matches_one_process"]
REPLACE = [("parallel = wrapper(model, device_ids=list(range(gpus)) if gpus else [0, 1])",
            "parallel = wrapper(model, device_ids=[0])")]
