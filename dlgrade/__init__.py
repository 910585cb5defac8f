"""dlgrade: a pytest-driven grading suite for a deep-learning onboarding curriculum."""
from __future__ import annotations

from typing import Any


def check(item: str) -> Any:
    """In a notebook: `from dlgrade import check; check("ex1.2")` runs the item's checks on the saved
    notebook and shows the result below the cell (dlgrade/learner/in_notebook.py)."""
    from dlgrade.learner.in_notebook import check as run

    return run(item)
