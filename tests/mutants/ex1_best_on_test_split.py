"""Picks the best epoch by its accuracy on the test split."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_training_script_chooses_on_its_validation_part"]
REPLACE = [("    val_loader = DataLoader(val_part, batch_size=512)",
            "    val_loader = DataLoader(load_mnist(args.data, train=False), batch_size=512)")]
