"""The training script trains on every digit of the training split, the validation part included."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_training_script_trains_only_on_its_training_part"]
SAYS = ["validation digits were trained on"]
REPLACE = [("    train_indices = [train_set.indices[i] for i in train_part.indices] if args.limit else train_part.indices",
            "    train_indices = list(train_set.indices) if args.limit else list(range(len(train_set)))")]
