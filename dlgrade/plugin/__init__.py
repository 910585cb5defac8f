"""The pytest plugin behind `pytest checks/...`; conftest.py names it (`pytest_plugins = ["dlgrade.plugin"]`).

One module per concern, each a plugin of its own that pytest registers with this one:
- options: the command-line options, the ini setting and the markers;
- state: the run's state (curriculum, language, target, results) and the `target` fixture;
- selection: links checks to curriculum items (`@pytest.mark.item("ex3.2")`), adds a marker per
  exercise (`-m ex3`), selects items with `--item ex3.2`, lists the collected checks;
- time_limits: a time limit on every check's setup and call;
- outcomes: turns failures into a few learner-facing lines (full traceback with -v or --tb=long),
  reports stubs still raising NotImplementedError as "not started" (pytest's skip outcome; a run
  where nothing failed exits 0), the hint once per item;
- recording: keeps each check's result, writes Gradescope results.json (--dlgrade-json) and the
  progress file, and records runs on the learner's exercises (dlgrade/core/records.py);
- summary: a per-exercise table at the end, then the next step as the last lines.

`dlgrade grade`'s side of a run (dlgrade/grading/run_guard.py) reads the state and the limits
through the names exported below.

PYTEST_DONT_REWRITE: these modules hold no asserts, and a grader plugin given with `-p` imports
them before pytest registers them; the marker spares that run pytest's "cannot be rewritten" warning.
"""
from dlgrade.plugin.state import STATE_KEY, GradingState, item_id, state_of
from dlgrade.plugin.time_limits import time_limit

__all__ = ["STATE_KEY", "GradingState", "item_id", "state_of", "time_limit"]

pytest_plugins = [
    "dlgrade.plugin.options",
    "dlgrade.plugin.state",
    "dlgrade.plugin.selection",
    "dlgrade.plugin.time_limits",
    "dlgrade.plugin.outcomes",
    "dlgrade.plugin.recording",
    "dlgrade.plugin.summary",
]
