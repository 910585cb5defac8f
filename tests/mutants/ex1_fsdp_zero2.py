"""FSDP: keeps the gathered parameters after forward (reshard_after_forward=False): ZeRO-2, not ZeRO-3."""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
REPLACE = [("""    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=True)""", """    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=False)""")]
