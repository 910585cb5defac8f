"""Class 8, host paths inside the sandbox: at import, read every command line and environment in
/proc (bwrap's own reaper is pid 1) and the interpreter's own paths, looking for the instructor's
repository or the grader's workspace. A correct submission that breaks itself if it finds one.

Stopped: bwrap's options travel over a file descriptor, the environment and the dlgrade
package sit at neutral paths (/opt/dlgrade), the workspace is mounted under /grading. Full marks.
"""
BASE = "solution"
EXPECT = "full"
HOST_PATHS = ["__REPO__", "__TMPDIR__"]


def _look():
    import os
    import sys

    seen = [sys.executable, sys.prefix, os.getcwd(), *sys.path]
    for pid in os.listdir("/proc"):
        for name in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{name}", "rb") as f:
                    seen.append(f.read().decode(errors="replace"))
            except OSError:
                pass
    found = [p for p in HOST_PATHS if any(p in text for text in seen)]
    if found:
        raise SystemExit(f"host paths visible inside the sandbox: {found}")


_look()
