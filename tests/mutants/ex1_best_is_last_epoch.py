"""Saves at every epoch, so the file holds the last epoch, not the best."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_best_checkpoint_keeps_the_best_validation_epoch"]
REPLACE = [("""        if val_acc < self.best or (val_acc == self.best and loss >= self.best_loss):
            return False
""", "")]
