"""`dlgrade snapshot`: store the reference answers that checks compare with.

Where the oracle is the reference answer itself, checks must not import solutions/ at
run time (a learner release has none). Instead `checks/snapshot_recipes.py` defines
RECIPES, name -> function(target) -> {array name: numpy array}; this command runs each
recipe on solutions/ and writes fixtures/snapshots/NAME.npz, which checks read with
`load_snapshot(NAME)`.
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

from dlgrade.feedback import fail
from dlgrade.paths import CHECKS_DIR, SNAPSHOTS_DIR, SOLUTIONS_DIR
from dlgrade.targets import Target

RECIPES_FILE = CHECKS_DIR / "snapshot_recipes.py"


def load_recipes(path: Path = RECIPES_FILE) -> dict:
    if not path.exists():
        return {}
    spec = importlib.util.spec_from_file_location("dlgrade_snapshot_recipes", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.RECIPES)


def write_snapshots(recipes: dict, target: Target, out_dir: Path = SNAPSHOTS_DIR,
                    only: list[str] | None = None) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, recipe in recipes.items():
        if only and name not in only:
            continue
        arrays = {key: np.asarray(value) for key, value in recipe(target).items()}
        path = out_dir / f"{name}.npz"
        np.savez_compressed(path, **arrays)
        written.append(path)
    return written


def load_snapshot(name: str, directory: Path = SNAPSHOTS_DIR) -> dict[str, np.ndarray]:
    path = directory / f"{name}.npz"
    if not path.exists():
        fail(f"snapshot {path.name} is missing",
             hint="maintainers: run `dlgrade snapshot` and commit fixtures/snapshots/")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", help="recipes to run (default: all)")


def run(args: argparse.Namespace) -> int:
    recipes = load_recipes()
    if not recipes:
        print(f"no recipes in {RECIPES_FILE}")
        return 0
    for path in write_snapshots(recipes, Target(SOLUTIONS_DIR), only=args.names):
        print(f"wrote {path}")
    return 0
