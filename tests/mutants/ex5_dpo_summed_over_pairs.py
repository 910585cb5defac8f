"""Loss summed over the pairs instead of averaged."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_dpo_loss_closed_formula"]
REPLACE = [("return -F.logsigmoid(beta * (chosen - rejected)).mean()", "return -F.logsigmoid(beta * (chosen - rejected)).sum()")]
