"""The boundary between checks and learner code (dlgrade/boundary): values cross as data, learner
code runs in its own process, and what it does there cannot reach the checks' process."""
from __future__ import annotations

import ctypes
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import openai
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from warm_pytest import WarmPytest

from dlgrade.boundary import codec, wire
from dlgrade.boundary.forked import LAUNCHER_ENV, ForkedProcess
from dlgrade.boundary.loader import LoadError, slow_imports
from dlgrade.boundary.proxy import LearnerProcess, LearnerProcessError, LearnerProcessRestarted, NotData
from dlgrade.boundary.recipes import Recipe
from dlgrade.checkkit.replay_server import ReplayServer
from dlgrade.core.project import Project
from dlgrade.core.tracebacks import location

LEARNER = '''
import os, sys, torch

class GroundingError(ValueError):
    pass

SCALE = 2.5

def double(x):
    return x * 2

def refuse(n):
    raise GroundingError(f"no box for {n}")

def todo():
    raise NotImplementedError("TODO")

def make_linear():
    return torch.nn.Linear(3, 2)

def apply(model, x):
    return model(x)

def exit_now(code):
    os._exit(code)

def loop_forever():
    while True:
        pass

def patch_the_checks():
    import builtins
    builtins.PATCHED_BY_LEARNER = True
    import pytest
    pytest.main = None
    return "patched"

class Sneaky:
    def __reduce__(self):
        return (os.system, ("touch SNEAKY_RAN",))
    def __eq__(self, other):
        return True

def sneaky():
    return Sneaky()

def scribble_on_the_channel():
    import socket, stat
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, b"\\xff" * 16)
        except OSError:
            pass
    return 1
'''


@pytest.fixture(scope="module")
def launcher():
    """The warm pytest server's launcher of learner processes (tests/warm_pytest.py)."""
    server = WarmPytest()
    server.start(dict(os.environ))
    yield server.launcher
    server.stop()


@pytest.fixture(params=["fresh", "forked"])
def learner(request, tmp_path, monkeypatch):
    """A learner process started afresh, and one forked by the harness's launcher: both behave alike."""
    if request.param == "forked":
        monkeypatch.setenv(LAUNCHER_ENV, request.getfixturevalue("launcher"))
    (tmp_path / "ex9_demo.py").write_text(LEARNER)
    process = LearnerProcess(tmp_path)
    module = process.module("ex9_demo.py").load()
    assert isinstance(process._proc, ForkedProcess) == (request.param == "forked")
    yield module, process
    process.stop()


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary(),
    lambda children: st.lists(children, max_size=4) | st.tuples(children, children)
    | st.dictionaries(st.text(max_size=5) | st.integers(), children, max_size=4),
    max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(values)
def test_data_round_trips(value):
    tree, blobs = codec.encode(value)
    assert codec.decode(tree, blobs) == value


def test_tensors_arrays_and_torch_types_round_trip():
    tensor = torch.randn(2, 3, dtype=torch.bfloat16)
    value = {"t": tensor, "a": np.arange(6, dtype=np.int32).reshape(2, 3), "s": np.float32(1.5),
             "dtype": torch.float16, "size": torch.Size([4, 5]), "nan": math.nan, 7: (Path("/x"),)}
    back = codec.decode(*codec.encode(value))
    assert back["t"].dtype == torch.bfloat16 and torch.equal(back["t"], tensor)
    assert back["a"].dtype == np.int32 and back["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert isinstance(back["s"], np.float32) and back["s"] == 1.5
    assert back["dtype"] is torch.float16 and back["size"] == torch.Size([4, 5])
    assert math.isnan(back["nan"]) and back[7] == (Path("/x"),)


def test_what_is_not_data_never_crosses_from_the_checks():
    with pytest.raises(codec.CodecError, match="cannot be sent"):
        codec.encode(torch.nn.Linear(2, 2))


@pytest.mark.parametrize("tree,blobs", [
    ({"$t": 3}, []),
    ({"$dtype": "os.system"}, []),
    ({"$handle": 1}, []),
    ({"$recipe": "from_pretrained"}, []),
    ({"$unknown": 1}, []),
    ({"$t": 0}, [b"\x80\x04\x95 not a safetensors blob"]),
])
def test_malformed_or_hostile_values_are_refused(tree, blobs):
    with pytest.raises((codec.CodecError, Exception)) as info:
        codec.decode(tree, blobs)
    assert not isinstance(info.value, (SystemExit, KeyboardInterrupt))


def test_a_frame_with_a_huge_length_is_refused():
    import socket
    ours, theirs = socket.socketpair()
    theirs.sendall(wire.LENGTH.pack(2**62))
    with pytest.raises(wire.WireError, match="header"):
        wire.receive(ours)


@pytest.mark.slow
def test_calls_values_handles_and_exceptions(learner):
    ex9, process = learner
    assert ex9.SCALE == 2.5
    assert torch.equal(ex9.double(torch.arange(3.0)), torch.tensor([0.0, 2.0, 4.0]))
    with pytest.raises(ex9.GroundingError, match="no box for 3") as info:
        ex9.refuse(3)
    assert isinstance(info.value, ValueError) and location(info.value.dlgrade_where) == "ex9_demo.py:13 in refuse"
    with pytest.raises(NotImplementedError):
        ex9.todo()
    linear = ex9.make_linear()
    assert linear.dlgrade_is("torch.nn.modules.module.Module")
    assert ex9.apply(linear, torch.ones(1, 3)).shape == (1, 2)
    assert process.recipe("state_dict", linear)["weight"].shape == (2, 3)
    built = ex9.apply(Recipe("module", "torch.nn.Linear", 3, 1, state={"weight": torch.ones(1, 3),
                                                                          "bias": torch.zeros(1)}),
                      torch.ones(2, 3))
    assert built.tolist() == [[3.0], [3.0]]


@pytest.mark.slow
def test_a_learner_object_decides_no_comparison(learner, tmp_path):
    ex9, _ = learner
    sneaky = ex9.sneaky()
    for decide in (lambda: sneaky == 1, lambda: bool(sneaky), lambda: len(sneaky), lambda: list(sneaky)):
        with pytest.raises(NotData):
            decide()
    assert not (tmp_path / "SNEAKY_RAN").exists() and not Path("SNEAKY_RAN").exists()


@pytest.mark.slow
def test_learner_code_never_runs_in_the_checks_process(learner):
    ex9, _ = learner
    pytest_main = pytest.main
    assert ex9.patch_the_checks() == "patched"
    assert pytest.main is pytest_main and not hasattr(__builtins__, "PATCHED_BY_LEARNER")
    assert not [name for name in sys.modules if name.startswith("dlgrade_target")]


@pytest.mark.slow
def test_the_checks_process_is_not_readable_by_the_learner_process(learner):
    """Non-dumpable: the kernel then lets no other process of the same user ptrace it or read its
    memory, environment or file descriptors through /proc (as root, as here, nothing would stop it)."""
    ex9, _ = learner
    assert ex9.double(1) == 2
    assert ctypes.CDLL(None).prctl(3, 0, 0, 0, 0) == 0  # PR_GET_DUMPABLE


@pytest.mark.slow
def test_a_learner_process_that_exits_or_scribbles_fails_the_call_and_is_replaced(learner):
    ex9, process = learner
    linear = ex9.make_linear()
    with pytest.raises(LearnerProcessError, match="exited with code 7"):
        ex9.exit_now(7)
    assert ex9.double(2) == 4  # a fresh process, the module imported again
    with pytest.raises(LearnerProcessRestarted):
        linear(torch.ones(1, 3))
    with pytest.raises(LearnerProcessError):
        ex9.scribble_on_the_channel()
    assert ex9.double(3) == 6


@pytest.mark.slow
def test_an_interrupted_call_kills_the_learner_process(learner):
    ex9, process = learner

    class Interrupted(BaseException):
        pass

    def on_alarm(signum, frame):
        raise Interrupted

    assert ex9.double(1) == 2
    pid = process._proc.pid
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    try:
        with pytest.raises(Interrupted):
            ex9.loop_forever()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert ex9.double(5) == 10


@pytest.mark.slow
def test_the_launcher_refuses_another_environment(tmp_path, launcher, monkeypatch):
    """Libraries read variables at import: a checks' process whose environment differs from the
    launcher's gets a fresh learner process, which reads the variables afresh."""
    monkeypatch.setenv(LAUNCHER_ENV, launcher)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    (tmp_path / "ex9_demo.py").write_text(LEARNER)
    process = LearnerProcess(tmp_path)
    try:
        assert process.module("ex9_demo.py").double(4) == 8
        assert isinstance(process._proc, subprocess.Popen)
    finally:
        process.stop()


@pytest.mark.slow
def test_a_forked_learner_process_ends_with_the_checks_process(tmp_path, launcher):
    """The launcher's learner process is not a child of the checks' process (no PR_SET_PDEATHSIG for
    it): its waiter kills it when the checks' process ends, even in the middle of a call."""
    (tmp_path / "ex9_demo.py").write_text(LEARNER)
    checks = textwrap.dedent(f"""
        import os, threading
        from pathlib import Path
        from dlgrade.boundary.proxy import LearnerProcess
        process = LearnerProcess(Path({str(tmp_path)!r}))
        ex9 = process.module("ex9_demo.py")
        ex9.double(1)
        print(process._proc.pid, type(process._proc).__name__, flush=True)
        threading.Timer(0.5, os._exit, [0]).start()
        ex9.loop_forever()
    """)
    done = subprocess.run([sys.executable, "-c", checks], capture_output=True, text=True, timeout=120,
                          env={**os.environ, LAUNCHER_ENV: launcher})
    pid, kind = done.stdout.split()
    assert kind == "ForkedProcess", done.stderr
    deadline = time.monotonic() + 60  # a bound on a wait, not a measurement: it ends as soon as the process has
    while time.monotonic() < deadline:
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"the learner process {pid} outlived the checks' process")


def test_the_slow_imports_of_a_file_are_read_as_text(tmp_path):
    source = tmp_path / "ex9_demo.py"
    source.write_text("import torch.nn as nn\nfrom PIL import Image\nfrom . import sibling\n"
                      "def later():\n    from transformers import AutoModel\n\nraise SystemExit('never run')\n")
    assert slow_imports(source) == ["torch", "transformers", "PIL.Image"]
    source.write_text("def broken(:\n")
    assert slow_imports(source) == []


@pytest.mark.slow
def test_a_learner_process_preloads_in_the_background_and_answers_after(tmp_path):
    (tmp_path / "ex9_demo.py").write_text(LEARNER)
    process = LearnerProcess(tmp_path)
    try:
        process.start(["torch", "no_such_library"])
        assert process.module("ex9_demo.py").double(21) == 42
    finally:
        process.stop()


def test_a_file_that_does_not_import_says_why(tmp_path):
    (tmp_path / "ex9_broken.py").write_text(textwrap.dedent("""
        x = 1
        def f(:
    """))
    (tmp_path / "ex9_stub.py").write_text("raise NotImplementedError('TODO')\n")
    process = LearnerProcess(tmp_path)
    try:
        with pytest.raises(LoadError) as info:
            _ = process.module("ex9_broken.py").f
        assert info.value.kind == "syntax" and info.value.line == 3
        with pytest.raises(LoadError) as info:
            _ = process.module("ex9_stub.py").anything
        assert info.value.kind == "not_started"
        with pytest.raises(LoadError) as info:
            _ = process.module("ex9_missing.py").anything
        assert info.value.kind == "missing"
    finally:
        process.stop()


def test_recorded_answers_reach_learner_code_through_a_real_client(tmp_path):
    """The learner's openai client talks HTTP to the checks' replay server; the check judges what
    the server received, and a request without a recorded answer is explained from the server's side."""
    (tmp_path / "ex9_api.py").write_text(textwrap.dedent("""
        def ask(client, text):
            answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": text}])
            return answer.choices[0].message.content
    """))
    question = "In one sentence, what is a residual connection in a neural network?"
    server = ReplayServer(Project.locate().fixtures / "cassettes" / "ex3" / "text_chat.yaml")
    process = LearnerProcess(tmp_path)
    try:
        with server.running():
            client = Recipe("openai_client", api_key="sk-dlgrade-test", base_url=server.base_url(), max_retries=0)
            ex9 = process.module("ex9_api.py")
            with pytest.raises(openai.BadRequestError):
                ex9.ask(client, "something else")
            assert "residual" in ex9.ask(client, question)
    finally:
        process.stop()
    assert [r.answered for r in server.received] == [False, True]
    assert server.received[1].json()["messages"][0]["content"] == question
    assert [r.status for r in server.received] == [400, 200]
    assert "residual" in server.received[1].response_json()["choices"][0]["message"]["content"]
    assert "something else" in server.unmatched[0].why_not


@pytest.mark.slow
def test_recipes_change_the_learner_process_not_the_checks_process(tmp_path):
    """The learner process has its own environment (set and unset by recipe), `str()` of a learner
    object is an observation, and offline it refuses every host but this machine."""
    (tmp_path / "ex9_env.py").write_text(textwrap.dedent("""
        import os, socket

        AT_IMPORT = os.environ.get("DLGRADE_DEMO")

        class Url:
            def __str__(self):
                return "http://127.0.0.1:1/v1"

        URL = Url()

        def read(name):
            return os.environ.get(name)

        def connect(host):
            socket.create_connection((host, 9), timeout=1)
    """))
    process = LearnerProcess(tmp_path)
    try:
        ex9 = process.module("ex9_env.py").load()
        previous = process.recipe("environ", {"DLGRADE_DEMO": "set", "HOME": None})
        assert previous == {"DLGRADE_DEMO": None, "HOME": os.environ.get("HOME")}
        assert ex9.read("DLGRADE_DEMO") == "set" and ex9.read("HOME") is None and ex9.AT_IMPORT is None
        assert "DLGRADE_DEMO" not in os.environ
        assert process.recipe("text", ex9.URL) == "http://127.0.0.1:1/v1"
        process.recipe("offline", "refused {host}")
        with pytest.raises(AssertionError, match="refused 192.0.2.1"):
            ex9.connect("192.0.2.1")
    finally:
        process.stop()
