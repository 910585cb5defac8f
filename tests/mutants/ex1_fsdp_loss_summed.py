"""FSDP: sums the loss instead of averaging it."""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
REPLACE = [("loss = F.cross_entropy(model(x.to(device)), y.to(device))",
            "loss = F.cross_entropy(model(x.to(device)), y.to(device), reduction='sum')")]
