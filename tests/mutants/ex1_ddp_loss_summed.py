"""DDP: sums the loss over the rank's rows instead of averaging."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process[torchrun]"]
SAYS = ["the loss is summed over each rank's 16 rows"]
REPLACE = [("loss = F.cross_entropy(ddp(x.to(device)), y.to(device))",
            "loss = F.cross_entropy(ddp(x.to(device)), y.to(device), reduction='sum')")]
