"""FSDP2 on each layer but never on the model: every layer is its own root and the head is never synchronised."""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
SAYS = ["the model itself was not given to fully_shard"]
REPLACE = [("""    fully_shard(model, mesh=mesh, reshard_after_forward=True)
""", "")]
