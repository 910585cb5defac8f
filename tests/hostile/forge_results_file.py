"""Class 1, forged scores: write a results file of full marks, with points for an item never
graded in this run, where the command line says results go, then leave with os._exit(0).
A stub otherwise. It leaves out the checks it does not recognise (the canary among them).

Caught: the grader ignores results for checks it did not collect, and a run that reports
every check but not the canary is tampered.
"""
BASE = "stub"
EXPECT = "tampered"


def _forge():
    import json
    import os
    import sys

    argv = sys.argv
    results = argv[argv.index("--dlgrade-json") + 1]
    progress = json.load(open(argv[argv.index("--dlgrade-progress") + 1]))
    names = [n for n in progress["collected"] if n.startswith("checks/")] + ["checks/test_ex1.py::test_free_points"]
    tests = [{"name": n, "number": "ex1.1" if "ex1" in n else "ex3.1", "score": 10, "max_score": 10,
              "status": "passed", "extra_data": {"nodeid": n, "dlgrade_status": "passed"}} for n in names]
    with open(results, "w") as f:
        json.dump({"score": 999, "max_score": 999, "tests": tests}, f)
    os._exit(0)


_forge()
