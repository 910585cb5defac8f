"""Stores torch.__version__ itself (a TorchVersion), which torch.load(weights_only=True) refuses."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_best_checkpoint_keeps_the_best_validation_epoch"]
REPLACE = [('"torch_version": str(torch.__version__)}, self.path)', '"torch_version": torch.__version__}, self.path)')]
