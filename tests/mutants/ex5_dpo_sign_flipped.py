"""DPO margin the wrong way round: rejected minus chosen."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_dpo_loss_closed_formula"]
REPLACE = [("return -F.logsigmoid(beta * (chosen - rejected)).mean()", "return -F.logsigmoid(beta * (rejected - chosen)).mean()")]
