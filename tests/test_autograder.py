"""`dlgrade autograder`: a Gradescope bundle, unpacked into a temporary /autograder and run.

The bundle in these tests grades exercise 3 (`--checks checks/test_ex3.py`, the fastest
exercise: about 25 s a submission here) plus one hidden check; the whole curriculum goes
through the same `dlgrade grade` command, which tests/test_grade.py covers.

Here the bundle runs with this checkout's environment, whose editable install points at this
checkout's dlgrade/, not the bundle's: the sandbox mounts the running (the bundle's) dlgrade
package ahead of it, so the bundle grades sandboxed here as on Gradescope. The bundle is built
for Chinese (`--lang zh`). A failed sandbox probe is made by a PATH without bwrap.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from gradescope_schema import validate

from dlgrade.core import i18n, stubs
from dlgrade.core.project import Project

REPO_ROOT = Project.locate().root
SOLUTIONS_DIR = Project.locate().solutions
HOSTILE = Path(__file__).parent / "hostile"

pytestmark = [pytest.mark.xdist_group("autograder"), pytest.mark.slow]

HIDDEN_CHECK = '''import pytest


@pytest.mark.item("ex3.3")
def test_box_of_a_tiny_image(target):
    ex3 = target.learner_module("ex3_openai.py")
    assert ex3.parse_box('{"found": true, "box_2d": [0, 0, 1000, 1000]}', 8, 6) == (0, 0, 8, 6)
'''


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bundle")
    (folder / "hidden").mkdir()
    (folder / "hidden" / "test_hidden_ex3.py").write_text(HIDDEN_CHECK)
    proc = subprocess.run([sys.executable, "-m", "dlgrade", "autograder", str(folder / "autograder.zip"),
                           "--checks", "checks/test_ex3.py", "--hidden", str(folder / "hidden"), "--lang", "zh"],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return folder / "autograder.zip"


SECRET = f"gradescope-secret-{secrets.token_hex(8)}"


def run_autograder(bundle: Path, root: Path, submission: dict[str, str | bytes], *, config: dict | None = None,
                   path: str | None = None) -> tuple[dict, str]:
    """Gradescope's steps: the bundle unpacked in ROOT/source, the submission in ROOT/submission; the image's
    environment holds a secret. `config` changes autograder.json; `path` replaces PATH. (results, log)"""
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    if config:
        config_path = root / "source" / "project" / "autograder.json"
        config_path.write_text(json.dumps({**json.loads(config_path.read_text()), **config}))
    for rel, content in submission.items():
        file = root / "submission" / rel
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {**os.environ, "DLGRADE_AUTOGRADER_ROOT": str(root), "DLGRADE_AUTOGRADER_PYTHON": sys.executable,
           "GRADESCOPE_TOKEN": SECRET, "PATH": path or os.environ["PATH"]}
    proc = subprocess.run(["/bin/bash", str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = (root / "results" / "results.json").read_text(encoding="utf-8")
    assert SECRET not in text
    results = json.loads(text)
    assert validate(results) == []
    return results, proc.stdout + proc.stderr


def test_bundle_layout(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {name: archive.getinfo(name).external_attr >> 16 for name in ("setup.sh", "run_autograder")}
    assert {"setup.sh", "run_autograder", "project/autograder.json", "project/hidden_checks/test_hidden_ex3.py",
            "project/checks/test_ex3.py", "project/exercises/ex3_openai.py", "project/curriculum.toml"} <= names
    assert all(mode & 0o111 for mode in modes.values()), modes
    assert not any(part in ("solutions", "tests") for name in names for part in name.split("/")[:2])
    assert "project/fixtures/cassettes/ex3/make_cassettes.py" not in names  # a builder that reads solutions/
    assert "project/fixtures/ex1/reference_resnet.pt2" in names  # instructor-only: the bundle grades with it
    for name in ("setup.sh", "run_autograder"):
        text = zipfile.ZipFile(bundle).read(name).decode()
        assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0, name
    setup = zipfile.ZipFile(bundle).read("setup.sh").decode()
    assert "python3.11" in setup and "bubblewrap" in setup
    # the CPU build of torch, into the venv the project's setup.sh then keeps (not downloadable from here)
    cpu = "pip install --quiet torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu"
    assert cpu in setup and setup.index("-m venv .venv") < setup.index(cpu) < setup.index("bash setup.sh")
    run = zipfile.ZipFile(bundle).read("run_autograder").decode()
    assert "env -i" in run and "dlgrade.grading.gradescope_run" in run
    assert json.loads(zipfile.ZipFile(bundle).read("project/autograder.json"))["lang"] == "zh"


def test_reference_submission_gets_full_score(bundle, tmp_path):
    files = {p.name: p.read_bytes() for p in SOLUTIONS_DIR.glob("*.py")}
    results, _ = run_autograder(bundle, tmp_path, files)
    max_score = sum(t["max_score"] for t in results["tests"])
    # each test's points are rounded for display (to 0.01), the total is not: they differ by the roundings only
    assert max_score > 0 and results["score"] == pytest.approx(max_score, abs=0.005 * len(results["tests"]))
    assert results["score"] == results["extra_data"]["max_score"] and results["extra_data"]["sandboxed"] is True
    assert {t["status"] for t in results["tests"]} == {"passed"}
    assert all(round(t["max_score"], 2) == t["max_score"] for t in results["tests"])  # no 1.4285714...
    hidden = [t for t in results["tests"] if t["visibility"] == "hidden"]
    assert len(hidden) == 1 and "test_box_of_a_tiny_image" in hidden[0]["name"]
    assert all(t["visibility"] == "visible" for t in results["tests"] if t not in hidden)
    assert all(i18n.has_cjk(t["name"]) for t in results["tests"])  # item titles in Chinese
    output = results["output"]
    assert "所有检查都通过了" in output and "得分" in output and "Score" not in output


def test_stub_submission_gets_zero_and_a_next_step(bundle, tmp_path):
    """Submitted as a clone of the release (exercises/ one level down), every function a stub."""
    files = {f"exercises/{rel}": text for rel, text in stubs.expected_exercises(SOLUTIONS_DIR).items()}
    files["README.md"] = "a learner's clone"
    results, _ = run_autograder(bundle, tmp_path, files)
    assert results["score"] == 0 and results["extra_data"]["max_score"] > 0
    assert {t["extra_data"]["dlgrade_status"] for t in results["tests"]} == {"not_started"}
    output = results["output"]
    assert "ex3.1" in output and "exercises/ex3_openai.py" in output
    assert "pytest checks/test_ex3.py --item ex3.1" in output
    assert "隐藏检查" in output and "hidden checks fail" not in output
    assert all(i18n.has_cjk(t["output"]) for t in results["tests"] if t["visibility"] == "visible")


LEAKS = """
def complete_text(*args, **kwargs):
    import os
    found = [open(f"/proc/{p}/environ", "rb").read().decode(errors="replace") for p in os.listdir("/proc")
             if p.isdigit() and os.access(f"/proc/{p}/environ", os.R_OK)]
    raise RuntimeError(f"env={dict(os.environ)} procs={found}")
"""


def test_a_submission_cannot_push_grading_out_of_the_sandbox(bundle, tmp_path):
    """What used to make a sandboxed result go missing (a results line the grader choked on), plus a leak."""
    hostile = (HOSTILE / "corrupts_outputs.py").read_text()
    source = (SOLUTIONS_DIR / "ex3_openai.py").read_text() + "\n" + hostile + LEAKS
    results, log = run_autograder(bundle, tmp_path, {"ex3_openai.py": source})
    assert results["extra_data"]["sandboxed"] is True and "--no-sandbox" not in log
    assert 0 < results["score"] < results["extra_data"]["max_score"]


def test_a_failed_probe_fails_the_submission_unless_the_bundle_allows_unsandboxed(bundle, tmp_path):
    source = (SOLUTIONS_DIR / "ex3_openai.py").read_text() + LEAKS
    results, log = run_autograder(bundle, tmp_path / "default", {"ex3_openai.py": source}, path="/nonexistent")
    assert results["score"] == 0 and results["tests"] == [] and results["extra_data"]["sandboxed"] is False
    assert "沙箱" in results["output"] and "`bwrap` is not installed" in log
    results, log = run_autograder(bundle, tmp_path / "allowed", {"ex3_openai.py": source},
                                  config={"allow_unsandboxed": True}, path="/nonexistent")
    # graded unsandboxed; complete_text() (the leak) ran and failed, and found no secret (run_autograder checks)
    assert results["extra_data"]["sandboxed"] is False and 0 < results["score"] < results["extra_data"]["max_score"]


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
