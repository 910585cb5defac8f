"""Computes the gradients but never steps the optimizer: nothing is learned."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_short_training_run_learns"]
REPLACE = [("            optimizer.step()\n            schedule.step()\n", "            schedule.step()\n")]
