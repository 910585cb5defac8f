"""BestCheckpoint.update() saves the right epochs but returns None instead of whether it saved."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_best_checkpoint_keeps_the_best_validation_epoch"]
SAYS = ["return True"]
REPLACE = [("            return False\n        self.best, self.best_loss", "            return\n        self.best, self.best_loss"),
           ("\"torch_version\": str(torch.__version__)}, self.path)\n        return True\n",
            "\"torch_version\": str(torch.__version__)}, self.path)\n")]
