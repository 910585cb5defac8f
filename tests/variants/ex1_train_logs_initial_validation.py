"""Correct, differently: train() also evaluates the untrained model once, before the first epoch, and prints it."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_training_script_keeps_the_best_epoch",
          "checks/test_ex1.py::test_training_script_trains_only_on_its_training_part",
          "checks/test_ex1.py::test_training_script_chooses_on_its_validation_part"]
REPLACE = [("""    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(1, epochs + 1):""", """    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    untrained_loss, untrained_acc = evaluate(model, val_loader)
    print(f"before training: val loss {untrained_loss:.3f}, val acc {untrained_acc:.4f}")
    for epoch in range(1, epochs + 1):""")]
