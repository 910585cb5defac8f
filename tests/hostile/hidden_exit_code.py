"""Class 5, the hidden run talking to the learner: in the hidden run only (its command line names
/grading/hidden_checks), exit with a code that is a byte of the hidden check file's name, once
per run, hoping the code reaches the learner's notes. A correct submission otherwise.

Stopped: hidden runs tell the learner nothing but passed/failed per hidden check; their notes
(exit codes among them) go to the gradebook only. Graded by the hidden-checks run of
tests/test_grade.py (HIDDEN_RUN), not the class run.
"""
BASE = "solution"
EXPECT = "full"
HIDDEN_RUN = True


def _signal():
    import os
    import sys

    hidden = [a for a in sys.argv if "/hidden_checks" in a]
    if hidden:
        names = sorted(os.listdir("/grading/hidden_checks"))
        os._exit(ord(names[0][0]))


_signal()
