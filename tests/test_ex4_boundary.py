"""Exercise 4's checks behind the learner-process boundary: the learner's file is imported in the
learner process only; there the stand-in hub is reached and every other host refused with the
checks' message; a figure is judged from the data of its images."""
from __future__ import annotations

import socket

import numpy as np
import pytest
from gradelib import REPO_ROOT
from matplotlib.figure import Figure

from dlgrade.boundary import recipes
from dlgrade.boundary.proxy import LearnerProcess
from dlgrade.checkkit import fakehub

LEARNER = '''
import socket, urllib.request

def resolve(host):
    return socket.getaddrinfo(host, 443)[0][4][0]

def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()
'''

# Appended to the learner's file: says, when the file is imported, which program imported it.
IMPORT_RECORDER = '''
import json as _json, sys as _sys
with open({record!r}, "a") as _out:
    _out.write(_json.dumps(_sys.argv) + "\\n")
'''
CHILD = REPO_ROOT / "dlgrade" / "boundary" / "child.py"


def test_fakehub_offline_refuses_remote_hosts_here_and_puts_the_socket_module_back():
    real = socket.getaddrinfo, socket.socket.connect
    with fakehub.offline():
        with pytest.raises(fakehub.RemoteHostBlocked, match="tried to reach example.org"):
            socket.getaddrinfo("example.org", 443)
        assert socket.getaddrinfo("127.0.0.1", 80)
    assert (socket.getaddrinfo, socket.socket.connect) == real


@pytest.mark.slow
def test_the_learner_process_refuses_remote_hosts_with_the_checks_message(tmp_path):
    (tmp_path / "ex9_net.py").write_text(LEARNER)
    process = LearnerProcess(tmp_path)
    try:
        ex9 = process.module("ex9_net.py")
        process.recipe("offline", "offline: {host}")
        process.recipe("offline", "no network here, not even {host}")  # a second call changes only the text
        with pytest.raises(AssertionError, match="^no network here, not even huggingface.co$"):
            ex9.resolve("huggingface.co")
        with fakehub.serve({"a/b": {"x.txt": b"hello"}}) as hub:
            assert ex9.fetch(f"{hub.endpoint}/a/b/resolve/main/x.txt") == b"hello"
            assert hub.fetched_files("a/b") == {"x.txt"}
    finally:
        process.stop()


def test_a_figure_is_observed_as_the_data_of_its_images():
    figure = Figure()
    ax = figure.add_subplot()
    ax.imshow(np.arange(6.0).reshape(2, 3))
    ax.pcolormesh(np.ma.masked_less(np.arange(4.0).reshape(2, 2), 1))
    ax.plot([0, 1], [1, 0])  # a line: not an image
    figure.figimage(np.ones((3, 3)))
    arrays = recipes.figure_images(figure)
    assert [a.shape for a in arrays] == [(2, 3), (2, 2), (3, 3)]
    assert all(type(a) is np.ndarray and a.dtype == np.float64 for a in arrays)
    assert np.isnan(arrays[1][0, 0]) and arrays[1][1, 1] == 3.0
