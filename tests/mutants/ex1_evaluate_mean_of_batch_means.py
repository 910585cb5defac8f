"""evaluate() averages the per-batch mean losses and accuracies: wrong when the last batch is smaller."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_evaluate_uses_eval_mode"]
REPLACE = [("""            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
    return total_loss / count, correct / count""", """            total_loss += F.cross_entropy(logits, labels).item()
            correct += (logits.argmax(1) == labels).float().mean().item()
            count += 1
    return total_loss / count, correct / count""")]
