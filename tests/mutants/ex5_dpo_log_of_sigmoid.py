"""log(sigmoid(z)): sigmoid underflows to 0 for a large negative margin and the loss is inf."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_dpo_loss_is_finite_for_large_margins"]
REPLACE = [("return -F.logsigmoid(beta * (chosen - rejected)).mean()",
            "return -torch.log(torch.sigmoid(beta * (chosen - rejected))).mean()")]
