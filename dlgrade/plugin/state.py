"""The run's state, shared by the plugin's modules through `config.stash`, and the `target` fixture.

PYTEST_DONT_REWRITE (see dlgrade/plugin/__init__.py).
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from dlgrade.checkkit.targets import Target, resolve
from dlgrade.core import curriculum as curriculum_mod
from dlgrade.core import i18n
from dlgrade.core.jsonio import write_json_atomic
from dlgrade.core.project import Project
from dlgrade.core.results import CheckResult, assign_scores

STATE_KEY = pytest.StashKey["GradingState"]()


class GradingState:
    def __init__(self, config: pytest.Config):
        self.config = config
        self.curriculum = curriculum_mod.load()
        # Checks phrase their messages through i18n.tr, which reads the process's language.
        self.lang = i18n.set_lang(config.getoption("dlgrade_lang"))
        self.target = Target(resolve(config.getoption("dlgrade_target")))
        self.json_path: str | None = config.getoption("dlgrade_json")
        self.progress_path: str | None = config.getoption("dlgrade_progress")
        self.progress: dict[str, Any] = {"collected": [], "items": {}, "current": None, "done": 0}
        self.visibility: str = config.getoption("dlgrade_visibility")
        self.results: dict[str, CheckResult] = {}
        self.setup_seconds: dict[str, float] = {}
        self.started = time.monotonic()
        self.detailed = config.getoption("verbose") > 0 or config.getoption("tbstyle") in ("long", "native")
        self.hinted: set[str] = set()  # items whose hint a failure block has shown
        self.complete_files: set[str] = set()  # check files none of whose checks was deselected
        self.record_path = _record_path(config.getoption("dlgrade_record"), self.target)
        self.recorded: list[CheckResult] | None = None

    def write_progress(self) -> None:
        if self.progress_path:
            write_json_atomic(Path(self.progress_path), self.progress)

    def ordered_results(self) -> list[CheckResult]:
        results = list(self.results.values())
        assign_scores(results, self.curriculum)
        return results


def _record_path(option: str | None, target: Target) -> Path | None:
    """Where this run's results are recorded: by default the learner's store, for runs on exercises/."""
    if option == "none":
        return None
    if option:
        return Path(option)
    project = Project.locate()
    return project.last_results if target.root.resolve() == project.exercises.resolve() else None


def state_of(config: pytest.Config) -> GradingState:
    return config.stash[STATE_KEY]


def item_id(item: pytest.Item) -> str | None:
    """The curriculum item a check grades; None for anything else (the harness's own tests)."""
    marker = item.get_closest_marker("item")
    return marker.args[0] if marker and marker.args else None


def files_checked(args: list[str], invocation_dir: Path, curriculum: curriculum_mod.Curriculum,
                  root: Path) -> tuple[list[str], list[Path]]:
    """The exercise files whose checks the command line names (a check file, a node of one, or a folder
    holding checks/), and those check files: what the learner process of this run will import, and what
    will send it recipes."""
    checks_dir = (root / "checks").resolve()
    named = [(invocation_dir / arg.split("::")[0]).resolve() for arg in args]
    exercise_files: set[str] = set()
    check_files: set[Path] = set()
    for item in curriculum.items:
        check = item.check or curriculum.section(item.section).check
        if not item.graded or check is None:
            continue
        path = (root / check).resolve()
        if any(path == n or (n.is_dir() and checks_dir.is_relative_to(n)) for n in named):
            check_files.add(path)
            exercise_files.update(curriculum.files_of(item))
    return sorted(exercise_files), sorted(check_files)


def pytest_configure(config: pytest.Config) -> None:
    state = GradingState(config)
    for section in state.curriculum.sections:
        config.addinivalue_line("markers", f"{section.id}: checks of {section.title('en')}")
    config.stash[STATE_KEY] = state
    exercise_files, check_files = files_checked(list(config.args), config.invocation_params.dir, state.curriculum,
                                                Project.locate().root)
    if exercise_files and not config.option.collectonly:
        # Started now, the learner process imports its libraries while this process collects the checks.
        state.target.start_learner_process(exercise_files, check_files)


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The folder being graded; checks load modules and scripts through it."""
    return state_of(request.config).target
