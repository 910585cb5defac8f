"""DDP: feeds the model flattened rows; the crash happens inside the grader's model but is the learner's line."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process[torchrun]"]
SAYS = ['ex1_ddp.py", line']
REPLACE = [("loss = F.cross_entropy(ddp(x.to(device)), y.to(device))",
            "loss = F.cross_entropy(ddp(x.flatten(1).to(device)), y.to(device))")]
