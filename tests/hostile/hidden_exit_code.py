"""Class 5, the hidden run talking to the learner: in the hidden run only (the command line of the
pytest that imports it names /grading/hidden_checks; the exercise file runs in the learner process,
so that is its parent's), exit with a code that is a byte of the hidden check file's name, hoping
the code reaches the learner's notes. A correct submission otherwise.

Stopped: the exit ends the learner process, which fails the hidden check that was calling it; hidden
runs tell the learner nothing but passed/failed per hidden check, and that check's message (the exit
code in it) goes to the gradebook's files only. Graded by the hidden-checks run of
tests/test_grade.py (HIDDEN_RUN), not the class run.
"""
BASE = "solution"
EXPECT = "full"
HIDDEN_RUN = True


def _signal():
    import os

    for pid in (os.getpid(), os.getppid()):
        with open(f"/proc/{pid}/cmdline", "rb") as source:
            if b"/hidden_checks" in source.read():
                names = sorted(os.listdir("/grading/hidden_checks"))
                os._exit(ord(names[0][0]))


_signal()
