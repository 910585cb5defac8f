"""Correct, differently: OneCycle built from epochs and steps_per_epoch, a shorter warm-up, linear annealing."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_train_steps_the_schedule_every_batch",
          "checks/test_ex1.py::test_train_trains_in_training_mode"]
REPLACE = [("OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))",
            "OneCycleLR(optimizer, max_lr=lr, epochs=epochs, steps_per_epoch=len(train_loader), pct_start=0.25,\n"
            "                                                   anneal_strategy=\"linear\")")]
