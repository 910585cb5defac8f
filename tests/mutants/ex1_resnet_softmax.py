"""The ResNet ends with a softmax and returns probabilities; F.cross_entropy then applies log-softmax to them again."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_resnet_returns_logits"]
SAYS = ["not probabilities"]
REPLACE = [("            return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))",
            "            return F.softmax(self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)), dim=1)")]
