"""Correct, differently: FSDP1 with a size-based auto-wrap policy small enough to give every conv (and
the head) its own unit."""
TARGET = "ex1_fsdp.py"
PASSES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
# features.0's conv has 80 parameters, features.1's 1168, the head 7850: min_num_params=50 wraps all three.
REPLACE = [("""    mesh = init_device_mesh(device.type, (world_size,))
    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=True)
    fully_shard(model, mesh=mesh, reshard_after_forward=True)
    return model""", """    import functools

    from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy
    from torch.distributed.fsdp.wrap import size_based_auto_wrap_policy

    return FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy.FULL_SHARD,
                                    auto_wrap_policy=functools.partial(size_based_auto_wrap_policy, min_num_params=50),
                                    device_id=device)"""),
           ("    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=False))"
            """
    return {name: tensor.cpu() for name, tensor in state.items()}""",
            """    from torch.distributed.fsdp import FullStateDictConfig, FullyShardedDataParallel, StateDictType

    config = FullStateDictConfig(offload_to_cpu=True, rank0_only=False)
    with FullyShardedDataParallel.state_dict_type(model, StateDictType.FULL_STATE_DICT, config):
        return {name: tensor.cpu() for name, tensor in model.state_dict().items()}""")]
