"""Correct, differently: the loss is computed inside the wrapped module; the per-device losses
DataParallel gathers are averaged."""
TARGET = "ex1_dataparallel.py"
PASSES = ["checks/test_ex1_distributed.py::test_dataparallel_splits_batches_and_matches_one_process"]
REPLACE = [("""    parallel = wrapper(model, device_ids=list(range(gpus)) if gpus else [0, 1])""",
            """    class WithLoss(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, x, y):
            return F.cross_entropy(self.model(x), y)

    parallel = wrapper(WithLoss(model), device_ids=list(range(gpus)) if gpus else [0, 1])"""),
           ("""        loss = F.cross_entropy(parallel(x.to(device)), y.to(device))""",
            """        loss = parallel(x.to(device), y.to(device)).mean()"""),
           ("""parallel.module.state_dict().items()""", """parallel.module.model.state_dict().items()""")]
