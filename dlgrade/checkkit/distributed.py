"""Run a learner's distributed training script in real process groups, and always clean up.

Every distributed check launches through `run_distributed()`:
- `torchrun --standalone` (or the script's own torch.multiprocessing.spawn): --standalone
  lets the rendezvous bind a free port itself, so two grading runs at once never collide;
- OMP_NUM_THREADS=1 in every rank (two threads per rank made distributed steps here up to
  75x slower);
- its own session (process group) and a hard deadline: at the deadline every process of the
  session and every recorded descendant is killed (torchrun starts its workers in sessions of
  their own, so killing the group alone can leave them running);
- every rank's output kept apart (torchrun --log-dir/--redirects) and the tracebacks shown
  earliest first, with a plain explanation of the classic mistakes;
- up to two reruns when a rank died by a signal without any Python traceback. Measured here (torch
  2.14.1, gloo, two torchrun DDP runs at once on 2 cores): about 1 run in 25 ends with a rank
  aborting in gloo's teardown ("terminate called without an active exception", SIGABRT) after
  every result was written. That is not the learner's bug; a script that really crashes does
  so every time and is reported with the signals of the earlier attempts.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.core.i18n import N_, tr

OUTPUT_TAIL_CHARS = 1500
ERROR_LINE_CHARS = 240
# Frames of the grader's own code (the probed model, the DataParallel stand-in) are not where
# the learner's mistake is: a crash inside them is located at the learner's call.
GRADER_DIR = str(Path(__file__).resolve().parent)
# gloo's words when the rank at the other end of a collective has gone away.
PEER_GONE = r"Connection closed by peer|Connection reset by peer|Broken pipe"
# The classic mistakes, recognised in a rank's output, and what to tell the learner.
EXPLANATIONS: list[tuple[str, str]] = [
    (r"before the current process has finished its bootstrapping phase|freeze_support\(\)",
     N_("the script starts processes at import time: put the entry point under `if __name__ == \"__main__\":`")),
    (r"ProcessGroupNCCL is only supported with GPUs|NCCL.*(not available|no GPUs)"
     r"|Distributed package doesn't have NCCL",
     N_("NCCL needs GPUs: on a CPU-only machine use the gloo backend "
        "(dist.init_process_group(\"nccl\" if torch.cuda.is_available() else \"gloo\"))")),
    (r"device_ids.*only work with.*GPU|device_ids.*CPU modules",
     N_("device_ids is for GPU models: wrap a CPU model as DistributedDataParallel(model) without device_ids")),
    (r"Default process group has not been initialized|has not been initialized.*init_process_group",
     N_("the script never calls torch.distributed.init_process_group() before using the process group")),
    (r"FSDP needs a non-CPU accelerator",
     N_("FSDP1 on CPU needs device_id=torch.device(\"cpu\"); or use FSDP2's fully_shard with a CPU device mesh")),
]


@dataclass
class RankLog:
    rank: int
    stdout: str
    stderr: str
    finished_at: float


@dataclass
class DistributedRun:
    returncode: int | None
    timed_out: bool
    wall_s: float
    output: str
    ranks: list[RankLog] = field(default_factory=list)
    leftover_pids: list[int] = field(default_factory=list)
    earlier_attempts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def signal_death(self) -> tuple[int, str] | None:
        """(rank, signal name) when the run failed because a rank was killed by a signal and no
        rank raised a Python exception; torchrun's "Root Cause" block or spawn's exception says so."""
        if self.ok or self.timed_out or any("Traceback" in r.stderr for r in self.ranks):
            return None
        root = self.output.rsplit("Root Cause", 1)[-1] if "Root Cause" in self.output else ""
        torchrun = re.search(r"rank\s*:\s*(\d+).*?exitcode\s*:\s*-(\d+)", root, flags=re.S)
        if torchrun:
            number = int(torchrun.group(2))
            return int(torchrun.group(1)), signal.Signals(number).name if number in signal.valid_signals() \
                else f"signal {number}"
        spawn = re.search(r"process (\d+) terminated with signal (SIG\w+)", self.output)
        if spawn and "terminated with the following error" not in self.output:
            return int(spawn.group(1)), spawn.group(2)
        return None

    def explanation(self) -> str | None:
        text = _unprefixed(self.output + "".join(r.stdout + r.stderr for r in self.ranks))
        for pattern, advice in EXPLANATIONS:
            if re.search(pattern, text):
                return tr(advice)
        return None

    def failure_summary(self, deadline_s: float) -> str:
        """One paragraph: what happened, the earliest traceback's last lines, what to do."""
        if self.timed_out:
            head = tr("the run did not finish within {seconds} s and was stopped (every process killed); "
                      "a rank stuck in a collective that another rank never reaches?", seconds=f"{deadline_s:g}")
        else:
            head = tr("the script exited with code {code}", code=self.returncode)
        advice = self.explanation()
        if advice:
            head += tr(". Likely cause: {advice}", advice=advice)
        failing = sorted((r for r in self.ranks if "Traceback" in r.stderr), key=lambda r: r.finished_at)
        death = self.signal_death()
        spawned = re.search(r"-- Process (\d+) terminated with the following error:\n(.*)", self.output, flags=re.S)
        quiet = [r.rank for r in self.ranks if "Traceback" not in r.stderr]
        if failing and quiet and re.search(PEER_GONE, failing[0].stderr):
            waiting = failing[0]
            head += ".\n" + tr("Rank {rank} waited in a collective ({where}) that rank {others} never joined: it ended "
                                "without an error before reaching it. Every rank must make the same collective calls "
                                "(all_reduce, barrier, DDP's backward, FSDP's forward) in the same order",
                                rank=waiting.rank, where=_own_frame(waiting.stderr) or tr("see its log"),
                                others=", ".join(map(str, quiet)))
        elif failing:
            head += ".\n" + tr("Rank {rank} failed first: {error}", rank=failing[0].rank,
                                error=_traceback_tail(failing[0].stderr))
        elif spawned:
            head += ".\n" + tr("Rank {rank} failed first: {error}", rank=spawned.group(1),
                                error=_traceback_tail(spawned.group(2)))
        elif death:
            rank, name = death
            last = [line for r in self.ranks if r.rank == rank for line in _unprefixed(r.stderr).splitlines()
                    if line.strip()]
            words = tr("; its last words: {words}", words=last[-1].strip()[:200]) if last else ""
            head += ".\n" + tr("Rank {rank} was killed by {signal} without a Python traceback", rank=rank,
                               signal=name) + words
        elif self.output.strip():
            head += ".\n" + tr("Output: {output}", output=_traceback_tail(self.output))
        if self.earlier_attempts:
            head += " " + tr("(after {count} rerun(s); earlier: {earlier})", count=len(self.earlier_attempts),
                             earlier="; ".join(self.earlier_attempts))
        return head


def _unprefixed(text: str) -> str:
    """torch prints a failing rank's traceback with "[rank1]:" before every line."""
    return re.sub(r"^\[rank\d+\]:", "", text, flags=re.M)


def _traceback_tail(text: str) -> str:
    """The exception line and the innermost frame of the script's own code, e.g.
    'ValueError: ... (File "ex1_ddp.py", line 40, in train)'."""
    lines = [line.strip() for line in _unprefixed(text).splitlines() if line.strip()]
    error_lines = [i for i, line in enumerate(lines) if re.match(r"^\w[\w.]*(Error|Exception|Exit)\b", line)]
    if not error_lines:
        return " / ".join(lines[-3:])[:300]
    i = error_lines[-1]
    where = _own_frame("\n".join(lines[:i]))
    return _clip(lines[i], ERROR_LINE_CHARS) + (f" ({where})" if where else "")


def _own_frame(text: str) -> str:
    """The innermost traceback frame of the script's own code ('File "ex1_ddp.py", line 40, in
    train'): not torch's, not the standard library's, not the grader's probe model."""
    frames = [line.strip() for line in _unprefixed(text).splitlines() if line.strip().startswith("File ")]
    own = [f for f in frames if "site-packages" not in f and "/lib/python" not in f and GRADER_DIR not in f]
    return (own or frames or [""])[-1][:200]


def _clip(text: str, limit: int) -> str:
    """At most `limit` characters, cut after a whole sentence (or word), marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind(": "))
    end = end + 1 if end > limit // 2 else cut.rfind(" ")
    return cut[:end if end > 0 else limit].rstrip() + " …"


def descendants(pid: int) -> list[int]:
    """Every live process whose parent chain leads to `pid` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_all(proc: subprocess.Popen, known: set[int]) -> None:
    known |= set(descendants(proc.pid))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in known:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run_distributed(script: Path, args: list[str], *, nprocs: int = 2, deadline_s: float = 120.0,
                    workdir: Path, launcher: str = "torchrun", env: dict | None = None,
                    outputs: tuple[Path, ...] = (), reruns: int = 2) -> DistributedRun:
    """Run `script` with `nprocs` ranks under torchrun; or `launcher="spawn"`: the script starts
    its own ranks with torch.multiprocessing.spawn and gets `--spawn nprocs`; or "single": one
    process (DataParallel). The same deadline (over all attempts) and clean-up apply to all three.
    A run whose rank died by a signal without a Python traceback is rerun (at most `reruns`
    times), after emptying the `outputs` folders the script writes to, so a rerun starts from
    nothing. Two reruns: at the measured 1-in-25 teardown abort, three in a row is 1 in 15,000."""
    started = time.monotonic()
    earlier: list[str] = []
    leftovers: list[int] = []
    for attempt in range(1, reruns + 2):
        remaining = deadline_s - (time.monotonic() - started)
        run = _attempt(script, args, nprocs, remaining, workdir / f"attempt-{attempt}", launcher, env)
        leftovers += run.leftover_pids
        death = run.signal_death()
        if not death or attempt > reruns or time.monotonic() - started >= deadline_s:
            break
        earlier.append(f"rank {death[0]} killed by {death[1]}")
        for folder in outputs:
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
    run.earlier_attempts, run.leftover_pids = earlier, leftovers
    run.wall_s = time.monotonic() - started
    return run


def _attempt(script: Path, args: list[str], nprocs: int, deadline_s: float, workdir: Path, launcher: str,
             env: dict | None) -> DistributedRun:
    workdir.mkdir(parents=True, exist_ok=True)
    logs = workdir / "rank-logs"
    if launcher == "torchrun":
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nprocs}",
                   f"--log-dir={logs}", "--redirects=3", str(script), *args]
    elif launcher == "spawn":
        command = [sys.executable, str(script), "--spawn", str(nprocs), *args]
    else:  # "single": one process (DataParallel)
        command = [sys.executable, str(script), *args]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    started = time.monotonic()
    output_path = workdir / "launcher-output.txt"
    with open(output_path, "wb") as output:
        proc = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=full_env,
                                start_new_session=True, cwd=workdir)
        known: set[int] = set()
        timed_out = False
        while proc.poll() is None:
            known |= set(descendants(proc.pid))
            if time.monotonic() - started > deadline_s:
                timed_out = True
                _kill_all(proc, known)
                proc.wait()
                break
            time.sleep(0.1)
    _kill_all(proc, known)  # ranks a clean launcher exit may have left behind
    time.sleep(0.05)
    leftovers = [pid for pid in known if _alive(pid)]
    return DistributedRun(returncode=None if timed_out else proc.returncode, timed_out=timed_out,
                          wall_s=time.monotonic() - started,
                          output=output_path.read_text(errors="replace")[-20_000:],
                          ranks=_rank_logs(logs), leftover_pids=leftovers)


def _rank_logs(logs: Path) -> list[RankLog]:
    """torchrun --log-dir layout: <dir>/<run id>/attempt_<n>/<rank>/{stdout,stderr}.log."""
    ranks = []
    for stderr in sorted(logs.glob("*/attempt_*/*/stderr.log")):
        rank_dir = stderr.parent
        stdout = rank_dir / "stdout.log"
        ranks.append(RankLog(rank=int(rank_dir.name), stdout=stdout.read_text(errors="replace")[-20_000:]
                             if stdout.exists() else "", stderr=stderr.read_text(errors="replace")[-20_000:],
                             finished_at=stderr.stat().st_mtime))
    return ranks
