"""FSDP1 with ShardingStrategy.SHARD_GRAD_OP (ZeRO-2): sharded between steps, but every layer stays
gathered from its forward until backward.

With FSDP1's default flat parameters the layer's flat parameter is swapped back to the shard after
forward while the gathered buffer is kept: only the layer's own tensors show it is still held.
"""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
SAYS = ["not kept until backward (ZeRO-2)"]
REPLACE = [("""    mesh = init_device_mesh(device.type, (world_size,))
    for layer in model.features:
        fully_shard(layer, mesh=mesh, reshard_after_forward=True)
    fully_shard(model, mesh=mesh, reshard_after_forward=True)
    return model""", """    from torch.distributed.fsdp import FullyShardedDataParallel, ShardingStrategy
    from torch.distributed.fsdp.wrap import ModuleWrapPolicy

    return FullyShardedDataParallel(model, sharding_strategy=ShardingStrategy.SHARD_GRAD_OP,
                                    auto_wrap_policy=ModuleWrapPolicy({torch.nn.Sequential}), device_id=device)"""),
           ("    state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=False))"
            """
    return {name: tensor.cpu() for name, tensor in state.items()}""",
            """    from torch.distributed.fsdp import FullStateDictConfig, FullyShardedDataParallel, StateDictType

    config = FullStateDictConfig(offload_to_cpu=True, rank0_only=False)
    with FullyShardedDataParallel.state_dict_type(model, StateDictType.FULL_STATE_DICT, config):
        return {name: tensor.cpu() for name, tensor in model.state_dict().items()}""")]
