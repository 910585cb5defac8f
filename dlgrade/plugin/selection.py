"""Checks and curriculum items: a marker per exercise (`-m ex3`), `--item` selection, the list of checks."""
from __future__ import annotations

from pathlib import Path

import pytest

from dlgrade.core.jsonio import write_json_atomic
from dlgrade.core.records import check_file_of
from dlgrade.plugin.state import item_id, state_of


def _wanted(item: str | None, selectors: list[str]) -> bool:
    if item is None:
        return False
    return any(item == s or item.split(".")[0] == s for s in selectors)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    selectors = config.getoption("dlgrade_items")
    keep, drop = [], []
    for check in items:
        item = item_id(check)
        if item:
            check.add_marker(item.split(".")[0])
        (keep if not selectors or _wanted(item, selectors) else drop).append(check)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    state_of(config).complete_files = {check_file_of(c.nodeid) for c in keep} - {check_file_of(c.nodeid) for c in drop}


def pytest_collection_finish(session: pytest.Session) -> None:
    """The checks of this run, once every plugin has selected and ordered them."""
    state = state_of(session.config)
    state.progress.update(collected=[check.nodeid for check in session.items],
                          items={check.nodeid: item_id(check) for check in session.items})
    state.write_progress()
    manifest = session.config.getoption("dlgrade_manifest")
    if manifest:
        write_json_atomic(Path(manifest), {"checks": [
            {"nodeid": check.nodeid, "item": item_id(check),
             "items": [m.args[0] for m in check.iter_markers("item") if m.args]} for check in session.items]})
