"""The blocks forget to add their input: a plain CNN, not a ResNet."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_residual_connections_are_there"]
REPLACE = [("return F.relu(out + self.shortcut(x))", "return F.relu(out)")]
