"""DDP: only rank 0 writes its rank<R>.json (the facts written inside the rank-0 branch with the weights)."""
TARGET = "ex1_ddp.py"
CATCHES = ["checks/test_ex1_distributed.py::test_ddp_matches_one_process[torchrun]"]
SAYS = ["rank1.json was not written"]
REPLACE = [("""    (args.out / f"rank{rank}.json").write_text(json.dumps(facts))
    if rank == 0:
""", """    if rank == 0:
        (args.out / f"rank{rank}.json").write_text(json.dumps(facts))
""")]
