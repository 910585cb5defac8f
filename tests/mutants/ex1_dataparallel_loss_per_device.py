"""DataParallel: the gathered loss summed over rows and divided by the number of devices."""
TARGET = "ex1_dataparallel.py"
CATCHES = ["checks/test_ex1_distributed.py::test_dataparallel_splits_batches_and_matches_one_process"]
SAYS = ["divided by the number of devices (2)"]
REPLACE = [("loss = F.cross_entropy(parallel(x.to(device)), y.to(device))",
            "loss = F.cross_entropy(parallel(x.to(device)), y.to(device), reduction='sum') / len(parallel.device_ids)")]
