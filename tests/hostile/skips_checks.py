"""Class 3, skips as free points: a correct submission whose complete_text() calls pytest.skip(),
after switching off (through sys.modules) the plugin's test that turns a learner's skip into a
failure. In a grade, a skipped check's weight used to move to the item's other checks.

Stopped: in a grade, a collected check that did not pass scores 0, whatever the run says
(skipped, xfailed, missing), unless the instructor marked it optional. Loses the checks that
call complete_text().
"""
BASE = "solution"
EXPECT = "without complete_text"


def _unguard():
    import sys

    plugin = sys.modules.get("dlgrade.plugin")
    if plugin is not None:
        plugin._innermost_in = lambda tb, folder: None


_unguard()


def complete_text(*args, **kwargs):
    import pytest

    pytest.skip("not today")
