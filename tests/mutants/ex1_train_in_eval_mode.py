"""train() never switches back to training mode: from epoch 2 on, after evaluate(), it trains in eval mode."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_train_trains_in_training_mode"]
SAYS = ["model.train()"]
REPLACE = [("    for epoch in range(1, epochs + 1):\n        model.train()\n", "    for epoch in range(1, epochs + 1):\n")]
