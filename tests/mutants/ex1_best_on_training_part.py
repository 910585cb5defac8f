"""The training script evaluates the epochs on the training part it trains on, not on the held-out part."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_training_script_chooses_on_its_validation_part"]
REPLACE = [("    val_loader = DataLoader(val_part, batch_size=512)",
            "    val_loader = DataLoader(train_part, batch_size=512)")]
