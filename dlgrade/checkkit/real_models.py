"""The real things (models, data sets) a learner may have locally, named by environment variables."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dlgrade.core.i18n import tr


def real_folder(env_var: str, what: str) -> Path:
    """The folder `env_var` names; without it, skip the check and say how to run it; a wrong
    folder fails the check with a message rather than a loader's traceback."""
    folder = os.environ.get(env_var)
    if not folder:
        pytest.skip(tr("the real model: set {env_var} to a {what} folder to run this check on it",
                       env_var=env_var, what=what))
    if not (Path(folder) / "config.json").is_file():
        pytest.fail(tr("{env_var} is {folder!r}, which is not a model folder (no config.json there)",
                       env_var=env_var, folder=folder), pytrace=False)
    return Path(folder)
