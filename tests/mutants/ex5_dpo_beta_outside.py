"""beta multiplies the loss instead of the margin inside the sigmoid."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_dpo_loss_closed_formula"]
REPLACE = [("return -F.logsigmoid(beta * (chosen - rejected)).mean()", "return -beta * F.logsigmoid(chosen - rejected).mean()")]
