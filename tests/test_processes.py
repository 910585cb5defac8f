"""dlgrade.checkkit.distributed: distributed runs that hang, crash or misuse the API end cleanly and explain."""
from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import pytest

from dlgrade.checkkit.distributed import run_distributed

DEADLINE_S = 20
# The hang test's deadline. Every other run gets SLOW_START_S, a deadline over all attempts that
# only a hang reaches: starting two ranks that import torch took up to 25 s here with every core
# busy (7 sessions), and a rerun test starts them three times.
SLOW_START_S = 180

COLLECTIVE = '''
import os, time, torch, torch.distributed as dist
dist.init_process_group("gloo")
rank = dist.get_rank()
{body}
dist.barrier()
dist.destroy_process_group()
'''


def script(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def processes_running(path: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.mark.slow
def test_a_hanging_rank_is_killed_at_the_deadline(tmp_path):
    path = script(tmp_path, "hang.py", COLLECTIVE.format(body="if rank == 1:\n    time.sleep(3600)\n"
                                                              "dist.all_reduce(torch.ones(1))"))
    started = time.monotonic()
    run = run_distributed(path, [], deadline_s=DEADLINE_S, workdir=tmp_path / "run")
    assert run.timed_out and not run.ok
    assert time.monotonic() - started < DEADLINE_S + 10
    assert "did not finish within 20 s" in run.failure_summary(DEADLINE_S)
    assert not run.leftover_pids and not processes_running(path)


@pytest.mark.slow
def test_a_crashing_rank_is_named_with_its_error(tmp_path):
    path = script(tmp_path, "crash.py", COLLECTIVE.format(
        body="if rank == 1:\n    raise RuntimeError('boom in rank 1')\ndist.all_reduce(torch.ones(1))"))
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run")
    summary = run.failure_summary(SLOW_START_S)
    assert not run.ok and not run.timed_out
    assert "Rank 1 failed first: RuntimeError: boom in rank 1" in summary and "crash.py" in summary
    assert len(summary.splitlines()) <= 2
    assert not run.leftover_pids and not processes_running(path)


@pytest.mark.slow
def test_a_script_without_init_process_group_is_explained(tmp_path):
    path = script(tmp_path, "noinit.py", "import torch, torch.distributed as dist\ndist.all_reduce(torch.ones(1))\n")
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run")
    assert not run.ok and "never calls torch.distributed.init_process_group()" in run.failure_summary(SLOW_START_S)
    assert not processes_running(path)


@pytest.mark.slow
def test_spawn_at_import_time_is_explained(tmp_path):
    path = script(tmp_path, "nomain.py", '''
        import sys, torch.multiprocessing as mp
        def work(rank):
            pass
        mp.set_start_method("spawn", force=True)
        mp.spawn(work, nprocs=2)
        ''')
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run", launcher="single")
    assert not run.ok and 'if __name__ == "__main__":' in run.failure_summary(SLOW_START_S)
    assert not processes_running(path)


@pytest.mark.slow
def test_two_runs_at_once_do_not_collide(tmp_path):
    body = "t = torch.ones(1)\ndist.all_reduce(t)\nassert t.item() == 2"
    path = script(tmp_path, "ok.py", COLLECTIVE.format(body=body))
    runs = {}

    def go(name):
        runs[name] = run_distributed(path, [], deadline_s=60, workdir=tmp_path / name)

    threads = [threading.Thread(target=go, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(run.ok for run in runs.values()), {k: v.failure_summary(60) for k, v in runs.items()}


@pytest.mark.parametrize("launcher", ["torchrun", "spawn"])
@pytest.mark.slow
def test_ranks_run_single_threaded(tmp_path, launcher):
    body = '''
        import os, sys
        def work(rank):
            assert os.environ["OMP_NUM_THREADS"] == "1"
        if __name__ == "__main__":
            if "--spawn" in sys.argv:
                import torch.multiprocessing as mp
                mp.spawn(work, nprocs=2)
            else:
                work(0)
        '''
    run = run_distributed(script(tmp_path, "threads.py", body), [], deadline_s=SLOW_START_S, workdir=tmp_path / "run",
                          launcher=launcher)
    assert run.ok, run.failure_summary(SLOW_START_S)


ABORT_IN_TEARDOWN = '''
import os, sys, pathlib
marker = pathlib.Path(sys.argv[1]) / "aborted-once"
out = pathlib.Path(sys.argv[2])
out.mkdir(exist_ok=True)
(out / f"written-by-{{os.environ['RANK']}}-{{os.getpid()}}").touch()
if os.environ["RANK"] == "1" and ({always} or not marker.exists()):
    marker.touch()
    sys.stderr.write("terminate called without an active exception\\n")
    sys.stderr.flush()
    os.abort()
'''


@pytest.mark.slow
def test_a_rank_killed_by_a_signal_once_is_rerun_from_clean_outputs(tmp_path):
    path = script(tmp_path, "flaky.py", ABORT_IN_TEARDOWN.format(always=False))
    out = tmp_path / "out"
    run = run_distributed(path, [str(tmp_path), str(out)], deadline_s=SLOW_START_S, workdir=tmp_path / "run",
                          outputs=(out,))
    assert run.ok, run.failure_summary(SLOW_START_S)
    assert run.earlier_attempts == ["rank 1 killed by SIGABRT"]
    assert len(list(out.iterdir())) == 2, "the rerun must start from empty output folders"


@pytest.mark.slow
def test_a_rank_that_always_dies_by_a_signal_is_reported_with_its_last_words(tmp_path):
    path = script(tmp_path, "abort.py", ABORT_IN_TEARDOWN.format(always=True))
    run = run_distributed(path, [str(tmp_path), str(tmp_path / "out")], deadline_s=SLOW_START_S,
                          workdir=tmp_path / "run")
    summary = run.failure_summary(SLOW_START_S)
    assert not run.ok
    assert "Rank 1 was killed by SIGABRT without a Python traceback" in summary
    assert "terminate called without an active exception" in summary
    assert "after 2 rerun(s); earlier: rank 1 killed by SIGABRT; rank 1 killed by SIGABRT" in summary
    assert not processes_running(path)


@pytest.mark.slow
def test_a_python_exception_is_not_rerun(tmp_path):
    path = script(tmp_path, "crash.py", COLLECTIVE.format(body="raise ValueError('mine')"))
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run")
    assert not run.ok and run.signal_death() is None and not run.earlier_attempts


@pytest.mark.slow
def test_a_spawned_rank_killed_by_a_signal_is_named(tmp_path):
    path = script(tmp_path, "spawn_abort.py", """
        import os, torch.multiprocessing as mp
        def work(rank):
            if rank == 1:
                os.abort()
        if __name__ == "__main__":
            mp.spawn(work, nprocs=2)
        """)
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run", launcher="spawn")
    assert run.signal_death() == (1, "SIGABRT")
    assert "Rank 1 was killed by SIGABRT without a Python traceback" in run.failure_summary(SLOW_START_S)
    assert len(run.earlier_attempts) == 2 and not processes_running(path)


@pytest.mark.slow
def test_a_rank_that_leaves_before_a_collective_is_named(tmp_path):
    path = script(tmp_path, "leaves.py", COLLECTIVE.format(body="if rank == 1:\n    raise SystemExit(0)\n"
                                                               "dist.all_reduce(torch.ones(1))"))
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run")
    summary = run.failure_summary(SLOW_START_S)
    assert "Rank 0 waited in a collective" in summary and "that rank 1 never joined" in summary, summary
    assert 'leaves.py", line 7' in summary and "Check the logs o" not in summary


@pytest.mark.slow
def test_a_spawned_rank_that_raises_is_named_with_its_error(tmp_path):
    path = script(tmp_path, "spawn_raise.py", """
        import torch.multiprocessing as mp
        def work(rank):
            if rank == 1:
                raise ValueError("rank 1 cannot read its shard")
        if __name__ == "__main__":
            mp.spawn(work, nprocs=2)
        """)
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run", launcher="spawn")
    assert "Rank 1 failed first: ValueError: rank 1 cannot read its shard" in run.failure_summary(SLOW_START_S)


@pytest.mark.slow
def test_a_crash_inside_the_grader_model_is_located_at_the_learners_line(tmp_path):
    path = script(tmp_path, "flat.py", """
        import torch
        from dlgrade.checkkit import rank_probes as probes
        model = probes.make_cnn()
        model(torch.zeros(4, 784))
        """)
    run = run_distributed(path, [], deadline_s=SLOW_START_S, workdir=tmp_path / "run", launcher="single")
    summary = run.failure_summary(SLOW_START_S)
    assert 'flat.py", line 5' in summary and "probes.py" not in summary, summary


def test_long_errors_are_cut_between_sentences():
    from dlgrade.checkkit.distributed import _clip

    text = "RuntimeError: first sentence here. " + "word " * 100
    assert _clip(text, 60) == "RuntimeError: first sentence here. …"
    assert _clip("short", 60) == "short"
    assert _clip("x" * 100, 10) == "x" * 10 + " …"
