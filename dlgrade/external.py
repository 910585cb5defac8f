"""The real things (models, data sets) a learner may have locally, named by environment variables."""
from __future__ import annotations

import os
from pathlib import Path

import pytest


def real_folder(env_var: str, what: str) -> Path:
    """The folder `env_var` names; without it, skip the check and say how to run it."""
    folder = os.environ.get(env_var)
    if not folder:
        pytest.skip(f"the real model: set {env_var} to a {what} folder to run this check on it")
    return Path(folder)
