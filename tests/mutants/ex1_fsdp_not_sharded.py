"""FSDP passed off with DDP: parameters replicated on every rank, nothing sharded."""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
REPLACE = [("""    mesh = init_device_mesh(device.type, (world_size,))
    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=True)
    fully_shard(model, mesh=mesh, reshard_after_forward=True)
    return model""", """    from torch.nn.parallel import DistributedDataParallel
    return DistributedDataParallel(model)"""),
           ("""    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=False))
    return {name: tensor.cpu() for name, tensor in state.items()}""",
            """    return {name: tensor.cpu() for name, tensor in model.module.state_dict().items()}""")]
