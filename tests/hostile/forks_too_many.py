"""Class 5, starving: a correct submission that, at import, starts 400 processes.

Stopped: the sandbox's process cap (256; RLIMIT_NPROC, or a pids cgroup when the grader is
root) refuses the rest; the submission then stops its own processes and carries on. Were
they all started, its import fails and the row says 0. Graded only where a cap can be set.
"""
BASE = "solution"
EXPECT = "full"
NEEDS_PROCESS_CAP = True


def _fork_many():
    import subprocess

    started = []
    try:
        for _ in range(400):
            started.append(subprocess.Popen(["sleep", "30"]))
    except OSError:
        pass
    for proc in started:
        proc.kill()
        proc.wait()
    if len(started) == 400:
        raise SystemExit("400 processes started: no process cap")


_fork_many()
