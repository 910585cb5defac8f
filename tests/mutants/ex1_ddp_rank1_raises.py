"""DDP: rank 1 raises before training; the failure must name the rank and its exception."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process"]
SAYS = ["Rank 1 failed first: ValueError: rank 1 cannot read its shard"]
REPLACE = [("    images, labels = load_data(args.data)\n    model = build_model(",
            "    images, labels = load_data(args.data)\n    if rank == 1:\n"
            "        raise ValueError('rank 1 cannot read its shard')\n    model = build_model(")]
