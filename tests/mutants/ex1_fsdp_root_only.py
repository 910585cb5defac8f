"""FSDP2 on the whole model only: no layer is sharded on its own, so the forward gathers every layer at once."""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
SAYS = ["the layers of model.features were not sharded separately"]
REPLACE = [("""    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=True)
""", "")]
