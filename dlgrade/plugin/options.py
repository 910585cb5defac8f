"""The plugin's command-line options, its ini setting and the markers checks use."""
from __future__ import annotations

import pytest

from dlgrade.core.i18n import add_lang_option

DEFAULT_TIME_LIMIT_S = 60.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlgrade")
    group.addoption("--target", dest="dlgrade_target", default=None,
                    help="what to grade: 'exercises' (default), 'solutions', or a folder with the same file names")
    group.addoption("--item", dest="dlgrade_items", action="append", default=[],
                    help="run only the checks of this item (ex3.2) or exercise (ex3); repeatable")
    add_lang_option(group.addoption, dest="dlgrade_lang")
    group.addoption("--dlgrade-json", dest="dlgrade_json", default=None,
                    help="write results in the Gradescope results.json schema to this path")
    group.addoption("--dlgrade-progress", dest="dlgrade_progress", default=None,
                    help="keep {collected, items, current, done} in this JSON file as the run goes "
                         "(for progress bars, and to know which check a crashed run was in)")
    group.addoption("--dlgrade-manifest", dest="dlgrade_manifest", default=None,
                    help="write the collected checks and their items as JSON to this path (harness tests)")
    group.addoption("--dlgrade-record", dest="dlgrade_record", default=None,
                    help="merge the results into this store (default: .dlgrade/last-results.json when grading "
                         "exercises/; 'none': do not record)")
    group.addoption("--dlgrade-visibility", dest="dlgrade_visibility", default="visible",
                    help="Gradescope visibility of these checks (visible, hidden, after_due_date, after_published)")
    parser.addini("dlgrade_time_limit", "default per-check time limit in seconds (setup and call each)",
                  default=str(DEFAULT_TIME_LIMIT_S))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "item(id, weight=1): the curriculum item (curriculum.toml) a check grades")
    config.addinivalue_line("markers", "time_limit(seconds): this check's time limit, setup and call each")
    config.addinivalue_line("markers", "hint(text): the check's own hint (a catalogue msgid), shown when it fails")
    config.addinivalue_line("markers", "optional: a check that may skip without costing points in a grade "
                                       "(e.g. one that needs a learner's own real model)")
