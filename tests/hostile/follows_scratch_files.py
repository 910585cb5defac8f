"""Class 1, the grader following what a run leaves behind: at import, where the grader used to
read the run's progress and results, leave a FIFO (a reader hangs), a symlink to /dev/zero (a
reader never ends) and a symlink to a classmate's results.json (full marks), in the working
folder and in TMPDIR; then carry on as a stub.

Stopped: the run reports over a pipe the grader owns; nothing the run leaves in its folders is
ever opened by the grader (and those folders are size-limited tmpfs). Scores what a stub scores.
"""
BASE = "stub"
EXPECT = 0.0
OTHER_RESULTS = "__OUT__/perfect/results.json"


def _plant():
    import os

    for folder in (os.getcwd(), os.environ.get("TMPDIR", "/tmp")):
        for name, how in (("progress.json", "fifo"), ("results.json", OTHER_RESULTS), ("collected.json", "/dev/zero"),
                          ("dlgrade-progress.json", "/dev/zero")):
            path = os.path.join(folder, name)
            try:
                if os.path.lexists(path):
                    os.unlink(path)
                if how == "fifo":
                    os.mkfifo(path)
                else:
                    os.symlink(how, path)
            except OSError:
                pass


_plant()
