"""`dlgrade autograder`: a Gradescope bundle, unpacked into a temporary /autograder and run.

The bundle in these tests grades exercise 3 (`--checks checks/test_ex3.py`, the fastest
exercise: about 25 s a submission here) plus one hidden check; the whole curriculum goes
through the same `dlgrade grade` command, which tests/test_grade.py covers.

Here the bundle runs with this checkout's environment, whose editable install points at this
checkout's dlgrade/, not the bundle's: bubblewrap cannot import the bundle's package, so
run_autograder takes its documented fallback (grades again with --no-sandbox, says so in the
log and in extra_data). On Gradescope, setup.sh installs the bundle's own project, and the
sandboxed run is the one that counts.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from gradescope_schema import validate

from dlgrade.core import stubs
from dlgrade.core.project import Project

REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions

pytestmark = pytest.mark.xdist_group("autograder")

HIDDEN_CHECK = '''import pytest


@pytest.mark.item("ex3.3")
def test_box_of_a_tiny_image(target):
    ex3 = target.module("ex3_openai.py")
    assert ex3.parse_box('{"found": true, "box_2d": [0, 0, 1000, 1000]}', 8, 6) == (0, 0, 8, 6)
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "hidden").mkdir()
    (folder / "hidden" / "test_hidden_ex3.py").write_text(HIDDEN_CHECK)
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "autograder", str(folder / "autograder.zip"),
                           "--checks", "checks/test_ex3.py", "--hidden", str(folder / "hidden")],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return folder / "autograder.zip"


def run_autograder(bundle: Path, root: Path, submission: dict[str, str | bytes]) -> dict:
    """Gradescope's steps: the bundle unpacked in ROOT/source, the submission in ROOT/submission."""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    for rel, content in submission.items():
        path = root / "submission" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {**os.environ, "DLGRADE_AUTOGRADER_ROOT": str(root), "DLGRADE_AUTOGRADER_PYTHON": sys.executable}
    proc = subprocess.run(["bash", str(root / "source" / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert validate(results) == []
    return results


def test_bundle_layout(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {name: archive.getinfo(name).external_attr >> 16 for name in ("setup.sh", "run_autograder")}
    assert {"setup.sh", "run_autograder", "project/autograder.json", "project/hidden_checks/test_hidden_ex3.py",
            "project/checks/test_ex3.py", "project/exercises/ex3_openai.py", "project/curriculum.toml"} <= names
    assert all(mode & 0o111 for mode in modes.values()), modes
    assert not any(part in ("solutions", "tests") for name in names for part in name.split("/")[:2])
    assert "project/fixtures/cassettes/ex3/make_cassettes.py" not in names  # a builder that reads solutions/
    for name in ("setup.sh", "run_autograder"):
        text = zipfile.ZipFile(bundle).read(name).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0, name
    assert "python3.11" in zipfile.ZipFile(bundle).read("setup.sh").decode()
    assert "bubblewrap" in zipfile.ZipFile(bundle).read("setup.sh").decode()


def test_reference_submission_gets_full_score(bundle, tmp_path):
    files = {p.name: p.read_bytes() for p in SOLUTIONS_DIR.glob("*.py")}
    results = run_autograder(bundle, tmp_path, files)
    max_score = sum(t["max_score"] for t in results["tests"])
    assert max_score > 0 and results["score"] == pytest.approx(max_score) == results["extra_data"]["max_score"]
    assert {t["status"] for t in results["tests"]} == {"passed"}
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert len(hidden) == 1 and "test_box_of_a_tiny_image" in hidden[0]["name"]
    assert all(t["visibility"] == "visible" for t in results["tests"] if t not in hidden)
    output = results["output"]
    assert "所有检查都通过了" in output and "Every check passes" in output
    assert output.index("得分") < output.index("Score")  # Chinese first


def test_stub_submission_gets_zero_and_a_next_step(bundle, tmp_path):
    """Submitted as a clone of the release (exercises/ one level down), every function a stub."""
    files = {f"exercises/{rel}": text for rel, text in stubs.expected_exercises(SOLUTIONS_DIR).items()}
    files["README.md"] = "a learner's clone"
    results = run_autograder(bundle, tmp_path, files)
    assert results["score"] == 0 and results["extra_data"]["max_score"] > 0
    assert {t["extra_data"]["dlgrade_status"] for t in results["tests"]} == {"not_started"}
    output = results["output"]
    assert "ex3.1" in output and "exercises/ex3_openai.py" in output
    assert "pytest checks/test_ex3.py --item ex3.1" in output
    assert "隐藏检查" in output and "hidden checks fail" in output


def test_schema_validator_catches_what_gradescope_rejects():
    good = {"score": 1.0, "output": "ok", "visibility": "visible", "tests": [
        {"name": "a", "number": "ex3.1", "score": 1.0, "max_score": 1.0, "status": "passed", "tags": ["ex3"],
         "visibility": "after_due_date", "extra_data": {}}], "leaderboard": [{"name": "acc", "value": 0.9}]}
    assert validate(good) == []
    bad = json.loads(json.dumps(good))
    bad["tests"][0].update(status="not_started", visibility="secret", number=3.1, sandboxed=True)
    del bad["score"], bad["tests"][0]["score"]
    bad["leaderboard"][0]["order"] = "up"
    errors = "\n".join(validate(bad))
    for expected in ("tests[0].status", "tests[0].visibility", "tests[0].number", "tests[0].sandboxed",
                     "no top-level score", "leaderboard[0]"):
        assert expected in errors


def test_autograder_refuses_a_bad_request(tmp_path):
    def autograder(*args):
        return subprocess.run([sys.executable, "-m", "dlgrade", "autograder", *args], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=120)

    assert autograder(str(tmp_path / "bundle.tar")).returncode == 2
    proc = autograder(str(tmp_path / "b.zip"), "--checks", "checks/test_nothing.py")
    assert proc.returncode == 2 and "test_nothing.py" in proc.stderr
    assert not (tmp_path / "b.zip").exists()
