"""The schedule peaks at a hard-coded 0.1 whatever `lr` train() is given."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_train_steps_the_schedule_every_batch"]
SAYS = ["max_lr"]
REPLACE = [("OneCycleLR(optimizer, max_lr=lr,", "OneCycleLR(optimizer, max_lr=0.1,")]
