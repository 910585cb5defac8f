"""evaluate() counts every batch as a full one: the accuracy and loss are divided by batches x batch size."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_evaluate_uses_eval_mode"]
REPLACE = [("            count += len(labels)\n    return total_loss / count, correct / count",
            "            count += loader.batch_size\n    return total_loss / count, correct / count")]
