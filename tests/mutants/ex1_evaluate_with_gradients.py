"""evaluate() runs the model with gradients on (no torch.no_grad()): the same numbers, with every activation kept
for a backward pass that never comes."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_evaluate_uses_eval_mode"]
SAYS = ["torch.no_grad()"]
REPLACE = [("""    with torch.no_grad():
        for images, labels in loader:
            logits = model(images)
            total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
            correct += (logits.argmax(1) == labels).sum().item()
            count += len(labels)
""", """    for images, labels in loader:
        logits = model(images)
        total_loss += F.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
        count += len(labels)
""")]
