"""The learner's recorded results: what `next`, `report --cached`, `watch` and the progress history read.

Every run of the checks on the learner's exercises (plain `pytest checks/...`, `watch`, `report`)
merges its results into .dlgrade/last-results.json (Gradescope schema; each check's extra_data
also carries when it ran and the fingerprint of what it ran on) and appends a dated line to
.dlgrade/history.jsonl. The fingerprint of a check file is a hash of everything its results
depend on — the check file, the exercise files of its section, their fixtures, the harness and
the language — so `dlgrade report` reruns only the check files whose fingerprint changed.
"""
from __future__ import annotations

import hashlib
import json
import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from dlgrade.core.curriculum import Curriculum
from dlgrade.core.jsonio import read_json_object, write_json_atomic
from dlgrade.core.project import PACKAGE_DIR, Project
from dlgrade.core.results import (
    DONE,
    PASSED,
    CheckResult,
    assign_scores,
    counted_items,
    from_gradescope,
    gradescope,
    item_status,
)


def history_path(results_path: Path) -> Path:
    return Path(results_path).with_name("history.jsonl")


def section_of_check_file(check_file: str | Path) -> str | None:
    """checks/test_ex1_distributed.py -> 'ex1'."""
    match = re.match(r"test_(ex\d+)", Path(check_file).name)
    return match.group(1) if match else None


def check_file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _files_under(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def depends_on(check_file: Path, target_root: Path) -> list[Path]:
    """The files a check file's results depend on (what `watch` watches and the fingerprint hashes)."""
    section = section_of_check_file(check_file)
    project = Project.locate()
    files = [check_file, project.checks / "conftest.py"]
    if section:
        files += sorted(project.checks.glob(f"{section}_*.py"))  # a check file's own helpers (ex2_beam_cases.py)
        files += sorted(target_root.glob(f"{section}_*"))
        files += [p for p in _files_under(target_root / "checkpoints") if p.name.startswith(section)]
        files += _files_under(project.fixtures / section) + _files_under(project.fixtures / "cassettes" / section)
    return [p for p in files if p.exists()]


def fingerprint(check_file: Path, target_root: Path, lang: str) -> str:
    digest = hashlib.sha256(lang.encode())
    harness = sorted(PACKAGE_DIR.rglob("*.py")) + sorted((PACKAGE_DIR / "locale").rglob("*.po"))
    for path in depends_on(check_file, target_root) + harness + [Project.locate().curriculum_file]:
        digest.update(path.name.encode())  # names, not paths: the plugin and `report` spell paths differently
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()[:16]


def read_results(path: Path) -> list[CheckResult]:
    return from_gradescope(read_json_object(path))


def merge(path: Path, fresh: list[CheckResult], extra: dict[str, dict[str, str]], target: str,
          complete_files: set[str],
          curriculum: Curriculum) -> list[CheckResult]:
    """Merge a run's results into the store at `path`; returns every recorded result.

    A recorded check is replaced by its new result; the old results of a check file that ran
    completely (no check deselected) are dropped, so a renamed check leaves nothing stale.
    Results of another target are discarded. `extra[nodeid]` goes into the check's extra_data.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(path.name + ".lock"))):
        old = read_json_object(path)  # a store cut short by a killed run reads as empty
        kept_tests = []
        if old.get("dlgrade_target") == target:
            new_ids = {r.nodeid for r in fresh}
            kept_tests = [t for t in old.get("tests", []) if t["extra_data"].get("nodeid") not in new_ids
                          and check_file_of(t["extra_data"].get("nodeid", "")) not in complete_files]
        kept = from_gradescope({"tests": kept_tests})
        old_extra = {t["extra_data"]["nodeid"]: t["extra_data"] for t in kept_tests}
        results = kept + list(fresh)
        assign_scores(results, curriculum)
        data = gradescope(results, curriculum, "en", 0.0)
        for test in data["tests"]:
            nodeid = test["extra_data"]["nodeid"]
            source = extra.get(nodeid) or old_extra.get(nodeid, {})
            test["extra_data"].update({k: v for k, v in source.items() if k in ("recorded_at", "fingerprint")})
        data["dlgrade_target"] = target
        write_json_atomic(path, data)
    return results


def recorded_at(path: Path) -> dict[str, str]:
    """nodeid -> when its result was recorded (ISO time)."""
    return {t["extra_data"]["nodeid"]: t["extra_data"].get("recorded_at", "")
            for t in read_json_object(path).get("tests", []) if "nodeid" in t.get("extra_data", {})}


def fingerprints(path: Path, target: str) -> dict[str, set[str]]:
    """check file -> the fingerprints its recorded results were made on (for the given target)."""
    data = read_json_object(path)
    if data.get("dlgrade_target") != target:
        return {}
    found: dict[str, set[str]] = {}
    for test in data.get("tests", []):
        extra = test.get("extra_data", {})
        found.setdefault(check_file_of(extra.get("nodeid", "")), set()).add(extra.get("fingerprint", ""))
    return found


def self_assessed_done(path: Path) -> set[str]:
    if not Path(path).exists():
        return set()
    with open(path, "rb") as f:
        data = tomllib.load(f)
    return {item_id for item_id, done in data.get("done", {}).items() if done is True}


def summary(curriculum: Curriculum, results: list[CheckResult], self_done: set[str]) -> dict[str, Any]:
    """Counts behind the progress bars: graded items passed, self-assessed items done, points."""
    graded = [i for i in curriculum.items if i.graded]
    self_items = [i for i in curriculum.items if i.kind == "self"]
    return {
        "graded_passed": sum(item_status(i, results) == PASSED for i in graded),
        "graded_total": len(graded),
        "self_done": sum(item_status(i, results, self_done) == DONE for i in self_items),
        "self_total": len(self_items),
        "score": round(sum(r.score for r in results), 4),
        "max_score": round(sum(r.max_score for r in results), 4),
        "sections": section_percentages(curriculum, results, self_done),
    }


def section_percentages(curriculum: Curriculum, results: list[CheckResult], self_done: set[str]) -> dict[str, float]:
    """section id -> percent of its graded (or self-assessed) items passed (done)."""
    out = {}
    for section in curriculum.sections:
        passed, counted = counted_items(list(curriculum.items_of(section.id)), results, self_done)
        if counted:
            out[section.id] = round(100 * passed / counted, 1)
    return out


def append_history(results_path: Path, target: str, entry: dict[str, Any]) -> None:
    with open(history_path(results_path), "a", encoding="utf-8") as f:
        f.write(json.dumps({"time": now(), "target": target, **entry}, ensure_ascii=False) + "\n")


def read_history(results_path: Path, target: str) -> list[dict[str, Any]]:
    path = history_path(results_path)
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("target") == target:
            entries.append(entry)
    return entries


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
