"""train() gives the checkpoint the accuracy of the training batches (as trained), not the validation accuracy."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_train_gives_the_checkpoint_each_epochs_validation_accuracy"]
REPLACE = [("            checkpoint.update(model, epoch, val_acc, val_loss)",
            "            checkpoint.update(model, epoch, correct / count, total_loss / count)")]
