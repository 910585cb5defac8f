"""Class 7, resources per process instead of per submission: at import, fill the working folder
until the disk says no, then start three processes that each touch 45 % of the submission's
memory limit at once (the class run passes --memory-limit 2). A correct submission otherwise.

Stopped: the working folder is a size-limited tmpfs (1 GiB), and the sandbox's memory cgroup
counts every process of the submission together: not all three can hold their share. Were they
all able to, the import fails and the row says 0. Graded only where the grader can make cgroups.
"""
BASE = "solution"
EXPECT = "full"
NEEDS_CGROUPS = True


def _hog():
    import os
    import subprocess
    import sys

    written, chunk = 0, b"x" * (64 << 20)
    try:
        with open("hog.bin", "wb") as f:
            while written < (3 << 29):
                f.write(chunk)
                f.flush()
                written += len(chunk)
    except OSError:
        pass
    finally:
        if os.path.exists("hog.bin"):
            os.unlink("hog.bin")
    if written >= (3 << 29):
        raise SystemExit(f"{written} bytes written to the scratch folder: no disk limit")
    share = int(0.45 * 2 * (1 << 30))
    code = (f"import time; b = bytearray({share}); b[::4096] = b'x' * len(b[::4096]); time.sleep(3)")
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    if all(p.wait() == 0 for p in procs):
        raise SystemExit("three processes held 135 % of the memory limit: no per-submission memory cap")


_hog()
