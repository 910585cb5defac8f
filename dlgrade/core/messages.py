"""The harness's own short words (column headers, statuses) by key, as catalogue msgids.

Exercise titles and hints are curriculum data and live in curriculum.toml; their Chinese is
there too. Everything else is translated through dlgrade/core/i18n.py.
"""
from __future__ import annotations

from dlgrade.core.i18n import N_, translate

MESSAGES: dict[str, str] = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "partial": N_("partly passed"),
    "not_started": N_("not started"),
    "skipped": N_("skipped"),
    "planned": N_("checks coming"),
    "done": N_("done (self-assessed)"),
    "todo": N_("to do (self-assessed)"),
    "exercise": N_("exercise"),
    "item": N_("item"),
    "status": N_("status"),
    "points": N_("points"),
    "items_passed": N_("items passed"),
    "next": N_("next"),
    "hint": N_("hint"),
    "rerun": N_("rerun"),
    "more": N_("full traceback"),
    "all_passed": N_("every graded item passes"),
    "progress": N_("progress"),
    "open": N_("open"),
    "measured": N_("measured"),
    "self_tick": N_("tick it in progress.toml when done"),
}


def msg(key: str, lang: str) -> str:
    return translate(MESSAGES[key], lang)
