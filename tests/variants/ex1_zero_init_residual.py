"""Correct, differently: the last BatchNorm of each residual branch starts at zero (a standard recipe that
learns more slowly at first)."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_short_training_run_learns", "checks/test_ex1.py::test_resnet_shape_and_size",
          "checks/test_ex1.py::test_residual_connections_are_there",
          "checks/test_ex1.py::test_train_gives_the_checkpoint_each_epochs_validation_accuracy",
          "checks/test_ex1.py::test_training_script_chooses_on_its_validation_part"]
REPLACE = [("        self.bn2 = nn.BatchNorm2d(out_channels)\n",
            "        self.bn2 = nn.BatchNorm2d(out_channels)\n        nn.init.zeros_(self.bn2.weight)\n")]
