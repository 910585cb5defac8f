"""Class 7, resources per process instead of per submission: at import, look whether the working
folder is the host's disk, then start three processes that each touch 40 % of the submission's
memory limit at once (the class run passes --memory-limit 2). A correct submission otherwise.

Stopped: the working folder is a size-limited tmpfs (1 GiB; its pages count in the memory
cgroup), and the sandbox's memory cgroup counts every process of the submission together: not
all three can hold their share. Otherwise the import fails and the row says 0. Graded only
where the grader can make cgroups.
"""
BASE = "solution"
EXPECT = "full"
NEEDS_CGROUPS = True


def _hog():
    import os
    import subprocess
    import sys

    with open("/proc/self/mountinfo") as f:
        mounts = {line.split()[4]: line.split(" - ")[1].split()[0] for line in f}
    disk = os.statvfs(os.getcwd())
    if mounts.get(os.getcwd()) != "tmpfs" or disk.f_blocks * disk.f_frsize > (1 << 30):
        raise SystemExit("the working folder is not a size-limited tmpfs: writes reach the host's disk")
    share = int(0.4 * 2 * (1 << 30))
    code = f"import time; b = bytearray({share}); b[::4096] = b'x' * len(b[::4096]); time.sleep(1)"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    if all(p.wait() == 0 for p in procs):
        raise SystemExit("three processes held 120 % of the memory limit: no per-submission memory cap")


_hog()
