"""train() counts the epochs from 0, so the checkpoint says epoch 0 for the first one."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_train_gives_the_checkpoint_each_epochs_validation_accuracy"]
SAYS = ["range(1, epochs + 1)"]
REPLACE = [("    for epoch in range(1, epochs + 1):", "    for epoch in range(epochs):")]
