"""Correct, differently: pre-activation blocks (BN-ReLU-conv), no ReLU after the addition, Adam."""
TARGET = "ex1_pytorch.py"
PASSES = ["checks/test_ex1.py::test_resnet_shape_and_size", "checks/test_ex1.py::test_residual_connections_are_there",
          "checks/test_ex1.py::test_short_training_run_learns"]
REPLACE = [("""        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))""", """        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return out + self.shortcut(x)"""),
           ("""        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2""", """        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2"""),
           ("""    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(train_loader))""",
            """    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)""")]
