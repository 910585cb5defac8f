"""Running the checks for the learner commands: `report` and `next --fresh` (the check files that
changed) and `watch` (one item). Each run is a pytest subprocess in the project's root, so a crash
in the learner's code cannot take the command down, and each records its results like any run of
the checks (dlgrade/core/records.py).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlgrade.checkkit.targets import Target
from dlgrade.core import records as store
from dlgrade.core.i18n import tr
from dlgrade.core.project import Project
from dlgrade.core.results import CheckResult, from_gradescope


def pytest_command(files: list[str], lang: str, *options: str) -> list[str]:
    """`python -m pytest FILES` quietly, in `lang`, with `options` (the learner's own output goes nowhere)."""
    return [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "--no-header",
            "--lang", lang, *options]


def check_files() -> list[Path]:
    return sorted(Project.locate().checks.glob("test_*.py"))


def stale_check_files(target: Target, results_path: Path, lang: str) -> list[Path]:
    """The check files whose recorded results are missing or were made on other files than now."""
    recorded = store.fingerprints(results_path, target.label)
    root = Project.locate().root
    return [path for path in check_files()
            if recorded.get(str(path.relative_to(root))) != {store.fingerprint(path, target.root, lang)}]


def run_checks(target: str, files: list[Path], results_path: Path, lang: str,
               show_progress: bool | None = None) -> None:
    """Run the checks of `files` on `target`, merging their results into `results_path`.

    Progress goes to stderr: a bar on a terminal, else one line per check file.
    """
    if not files:
        return
    results_path.parent.mkdir(parents=True, exist_ok=True)
    progress_path = results_path.with_name(results_path.name + ".progress")
    progress_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        pytest_command([str(f) for f in files], lang, "--target", target, "--dlgrade-record", str(results_path),
                       "--dlgrade-progress", str(progress_path)),
        cwd=Project.locate().root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    show_progress = sys.stderr.isatty() if show_progress is None else show_progress
    if len(files) == len(check_files()):
        print(tr("running every check"), file=sys.stderr)
    else:
        print(tr("running the checks of {files} (the others are unchanged since their last run)",
                 files=", ".join(f.name for f in files)), file=sys.stderr)
    if show_progress:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task(target, total=None)
            while proc.poll() is None:
                state = _progress(progress_path)
                if state:
                    bar.update(task, total=len(state["collected"]), completed=state["done"],
                               description=(state.get("current") or "").split("::")[-1][:50])
                time.sleep(0.2)
        return
    shown = None
    while proc.poll() is None:
        state = _progress(progress_path)
        current = store.check_file_of(state.get("current") or "") if state else None
        if state and current and current != shown:
            shown = current
            print(f"  {current} ({state['done']}/{len(state['collected'])})", file=sys.stderr, flush=True)
        time.sleep(0.5)


def _progress(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def run_item(check_file: str, item_id: str, lang: str) -> tuple[list[CheckResult], str]:
    """The results of one item's checks on exercises/ (recorded like any run), and what pytest printed."""
    json_path = Project.locate().state / "watch-results.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.unlink(missing_ok=True)
    proc = subprocess.run(pytest_command([check_file], lang, "--item", item_id, "--dlgrade-json", str(json_path)),
                          cwd=Project.locate().root, capture_output=True, text=True, check=False)
    results = from_gradescope(json.loads(json_path.read_text(encoding="utf-8"))) if json_path.exists() else []
    return results, proc.stdout + proc.stderr
