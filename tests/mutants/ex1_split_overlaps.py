"""The validation digits stay in the training part too."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_validation_is_held_out_from_the_training_split"]
REPLACE = [("return Subset(train_set, order[n_val:]), Subset(train_set, order[:n_val])",
            "return Subset(train_set, order), Subset(train_set, order[:n_val])")]
