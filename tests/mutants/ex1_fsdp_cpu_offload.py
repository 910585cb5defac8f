"""FSDP: gathers the full state dict with cpu_offload=True, which leaves rank 1 an empty dict."""
TARGET = "ex1_fsdp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_fsdp_fully_shards_and_matches_one_process"]
SAYS = ["cpu_offload=True"]
REPLACE = [("StateDictOptions(full_state_dict=True, cpu_offload=False)",
            "StateDictOptions(full_state_dict=True, cpu_offload=True)")]
