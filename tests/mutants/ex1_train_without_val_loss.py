"""train() gives the checkpoint the validation accuracy only: the documented tie-break by loss never happens."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_train_gives_the_checkpoint_each_epochs_validation_accuracy"]
SAYS = ["val_loss"]
REPLACE = [("            checkpoint.update(model, epoch, val_acc, val_loss)",
            "            checkpoint.update(model, epoch, val_acc)")]
