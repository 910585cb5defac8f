"""Class 1 and 5: a correct submission that, at import, leaves a double-forked setsid daemon
behind to rewrite the grader's outputs (--out, by absolute path) after the grader is done,
and twenty setsid sleepers.

Stopped: --out does not exist inside the sandbox, and every process of the sandbox's pid
namespace dies with it. Scores full marks; the outputs stay the grader's.
"""
BASE = "solution"
EXPECT = "full"
OUT = "__OUT__"


def _daemon():
    import os
    import subprocess
    import time

    for _ in range(20):
        subprocess.Popen(["sleep", "600"], start_new_session=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(4)
            for path in (f"{OUT}/gradebook.csv", f"{OUT}/daemon_rewrites_outputs/results.json"):
                try:
                    with open(path, "w") as f:
                        f.write('{"score": 1000}')
                except OSError:
                    pass
        os._exit(0)


_daemon()
