"""Class 2, one submission's output against everyone's outputs: complete_text() fails with a
message full of what breaks output formats: control characters, markup, a NUL, an escape sequence,
non-characters and a lone surrogate.

Stopped: every text is escaped for its format (XML 1.0 characters, valid UTF-8 JSON with finite
numbers, CSV); the message reaches the grader only as data from the learner process (a run's
results and durations are the checks' process's own, over the grader's pipe, which learner code
does not hold). Loses the checks that call complete_text(); every output of the class stays valid.
"""
BASE = "solution"
EXPECT = "without complete_text"


def complete_text(*args, **kwargs):
    raise RuntimeError("control \x00\x01\x0b\x0c\x1b[31m red ]]> &amp; </failure> <x> \ufffe\uffff "
                       "lone \ud800 surrogate end")
