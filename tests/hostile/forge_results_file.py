"""Class 1 and 4, forged scores: at import, report full marks over the grader's own pipe (its
descriptor is on the command line) for every check under checks/ (the canary is not there),
with points for an item never graded in this run, then leave with os._exit(3). A stub otherwise.

Void: the exercise file is imported in the learner process (dlgrade/boundary), which does not
hold the grader's pipe (not inherited; the checks' process is not dumpable, so /proc/<pid>/fd is
closed to it), and whose exit fails only the check that was calling it. The grader's own rules
(results for checks it did not collect ignored; a run without the canary's failure tampered,
whatever its exit code) are tested on the policy in tests/test_grade.py.
"""
BASE = "stub"
EXPECT = 0.0


def _forge():
    import gc
    import json
    import os
    import sys

    fd = int(sys.argv[sys.argv.index("--dlgrade-channel") + 1])
    session = next(o for o in gc.get_objects() if type(o).__name__ == "Session" and hasattr(o, "items"))
    names = [i.nodeid for i in session.items if i.nodeid.startswith("checks/")] + ["checks/test_ex1.py::test_free"]
    for name in names:
        os.write(fd, (json.dumps({"result": {"nodeid": name, "status": "passed", "output": "", "duration": 0.1}})
                      + "\n").encode())
    os._exit(3)


_forge()
