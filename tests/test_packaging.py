"""dlgrade as a plain (non-editable) install: what the wheel ships is all the commands need.

The wheel is built from a copy of the package's sources alone, installed into a fresh virtual
environment, and used from a copy of the project that has no dlgrade/ folder: `dlgrade report
--cached`, and `dlgrade grade` of one submission in its bubblewrap sandbox (which binds only the
installed package and the environment). The environment reuses this one's libraries as hard links
(same file system: seconds, no disk, torch not reinstalled); only dlgrade is installed from the wheel.
"""
from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlgrade.core.project import Project

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("packaging")]

ROOT = Project.locate().root
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
# What this checkout's own (editable) install put into the environment: never copied.
EDITABLE = ("__editable__", "dlgrade-")
PROJECT_PARTS = ("curriculum.toml", "conftest.py", "pyproject.toml", "progress.toml", "checks", "fixtures", "exercises")


def run(command: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DLGRADE_", "PYTHON", "VIRTUAL_ENV"))}
    proc = subprocess.run(command, cwd=cwd, env={**env, "DLGRADE_LANG": "en"}, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{command}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh environment with dlgrade installed from its wheel; returns its bin/ folder."""
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "dlgrade", source / "dlgrade", ignore=shutil.ignore_patterns("__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
         "-w", str(tmp / "dist"), str(source)], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("dlgrade-*.whl")

    env = tmp / "env"
    run([sys.executable, "-m", "venv", "--without-pip", str(env)], cwd=tmp)
    site = env / SITE.relative_to(sys.prefix)
    for entry in SITE.iterdir():
        if not entry.name.startswith(EDITABLE):
            subprocess.run(["cp", "-al", str(entry), str(site)], check=True)
    run([str(env / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], cwd=tmp)
    return env / "bin"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course project without the harness's sources: dlgrade can only come from the install."""
    folder = tmp_path_factory.mktemp("project")
    for name in PROJECT_PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, folder / name)
    return folder


def test_the_install_is_the_wheels_not_this_checkout(installed, project):
    proc = run([str(installed / "python"), "-c", "import dlgrade; print(dlgrade.__file__)"], cwd=project)
    assert Path(proc.stdout.strip()).is_relative_to(installed.parent), proc.stdout
    shipped = Path(proc.stdout.strip()).parent
    for data in ("locale/zh/LC_MESSAGES/dlgrade.po", "grading/sandbox_site/sitecustomize.py",
                 "shipping/templates/release/README.md", "shipping/templates/autograder/run_autograder"):
        assert (shipped / data).is_file(), f"the wheel lacks dlgrade/{data}"


def test_report_cached_from_the_install(installed, project):
    proc = run([str(installed / "dlgrade"), "report", "--cached"], cwd=project)
    assert "Exercise 3" in proc.stdout and str(project) in proc.stderr, proc.stdout + proc.stderr


def test_grade_a_submission_in_the_sandbox_from_the_install(installed, project, tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed: dlgrade grade refuses to grade without its sandbox")
    submission = tmp_path / "alice"
    submission.mkdir()
    shutil.copy2(ROOT / "solutions" / "ex3_openai.py", submission / "ex3_openai.py")
    run([str(installed / "dlgrade"), "grade", str(submission), "--out", str(tmp_path / "grades"),
         "--checks", "checks/test_ex3.py", "--jobs", "1"], cwd=project, timeout=900)
    with open(tmp_path / "grades" / "gradebook.csv", newline="") as f:
        (row,) = csv.DictReader(f)
    assert row["status"] == "graded" and row["sandboxed"] == "yes", row
    assert float(row["total"]) == float(row["max_total"]) > 0, row
