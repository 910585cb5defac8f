"""BatchNorm without running statistics: in eval mode it still normalises with the batch's own, so a digit's
prediction depends on the other digits of its batch."""
TARGET = "ex1_pytorch.py"
CATCHES = ["checks/test_ex1.py::test_resnet_shape_and_size"]
SAYS = ["track_running_stats"]
REPLACE = [("""        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)""", """        self.bn1 = nn.BatchNorm2d(out_channels, track_running_stats=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels, track_running_stats=False)""")]
