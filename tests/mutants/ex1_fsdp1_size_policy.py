"""FSDP1 with a size-based auto-wrap policy (min_num_params=1000): the first conv (80 parameters) is
left in the root unit.

The root gathers its parameters for the whole forward, so features.0 is never sharded layer by layer.
With the default flat parameters its tensors are no longer registered parameters: only the tensors
the layer uses show that it is held.
"""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
SAYS = ["features.0 is not an FSDP unit of its own"]
REPLACE = [("""    mesh = init_device_mesh(device.type, (world_size,))
    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=True)
    fully_shard(model, mesh=mesh, reshard_after_forward=True)
    return model""", """    import functools

    from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy
    from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy

    return FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy.FULL_SHARD,
                                    auto_wrap_policy=functools.partial(size_based_auto_wrap_policy,
                                                                       min_num_params=1000),
                                    device_id=device)"""),
           ("    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=False))"
            """
    return {name: tensor.cpu() for name, tensor in state.items()}""",
            """    from torch.distributed.fsdp import FullStateDictConfig, FullyShardedDataParallel, StateDictType

    config = FullStateDictConfig(offload_to_cpu=True, rank0_only=False)
    with FullyShardedDataParallel.state_dict_type(model, StateDictType.FULL_STATE_DICT, config):
        return {name: tensor.cpu() for name, tensor in model.state_dict().items()}""")]
