"""Class 5, outliving and starving: a correct submission that, at import, blocks SIGALRM (the
in-process time limit), tries to take 8 GiB of memory, and whose draw_box() spins forever.

Stopped: the memory cap refuses the allocation (else the import fails: score 0); the import and
draw_box() run in the learner process (dlgrade/boundary), so the blocked SIGALRM is that process's
own: the checks' time limit still fires, kills the learner process and fails the check with the
reason, and the next check gets a fresh learner process. (Were the checks' process starved, the
grader's watchdog would kill the sandbox and restart the run.) Loses the checks that call draw_box().
"""
BASE = "solution"
EXPECT = "without draw_box"


def _starve():
    import signal

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    try:
        hog = bytearray(8 * 1024 ** 3)
    except MemoryError:
        return
    raise SystemExit(f"{len(hog)} bytes allocated: no memory cap")  # every check fails: the row says so


_starve()


def draw_box(*args, **kwargs):
    while True:
        pass
