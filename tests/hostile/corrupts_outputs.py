"""Class 2, one submission's output against everyone's outputs: complete_text() fails with
control characters and markup in its message; at exit, the run reports (over the grader's
pipe, as the last word on a check it fails anyway) a lone surrogate, raw invalid UTF-8, a NaN
and an infinite duration, a result that is not JSON and one nested too deep to parse.

Stopped: every text is escaped for its format (XML 1.0 characters, valid UTF-8 JSON with
finite numbers, CSV); a line the grader cannot parse is ignored. Loses the checks that call
complete_text(); every output of the class stays valid.
"""
BASE = "solution"
EXPECT = "without complete_text"


def _last_word():
    import atexit
    import os
    import sys

    fd = int(sys.argv[sys.argv.index("--dlgrade-channel") + 1])
    nodeid = "checks/test_ex3.py::test_text_generation_chat_completions"

    def send():
        lines = [b'{"result": {"nodeid": "' + nodeid.encode() + b'", "status": "failed", "duration": Infinity}}',
                 b'{"result": {"nodeid": "' + nodeid.encode() + b'", "status": "failed", "duration": NaN, '
                 b'"output": "lone \\ud800 surrogate, raw \xff\xfe bytes, \\u0000 nul, \\u001b[31m, ]]>"}}',
                 b"\xff\xfe not json at all",
                 b"[" * 100_000]
        os.write(fd, b"\n".join(lines) + b"\n")

    atexit.register(send)


_last_word()


def complete_text(*args, **kwargs):
    raise RuntimeError("control \x00\x01\x0b\x0c\x1b[31m red ]]> &amp; </failure> <x> \ufffe\uffff end")
