"""`dlgrade COMMAND`: one module of this package per command."""
from __future__ import annotations

import argparse
import sys

from dlgrade import grade, hint, next_step, report, reset, snapshot, stubs, watch

COMMANDS = {
    "report": (report, "show your progress over the whole curriculum (runs the checks)"),
    "next": (next_step, "the first unfinished item: what to open, what to run"),
    "hint": (hint, "an item's hint, file and check command"),
    "watch": (watch, "rerun the current item's checks whenever exercises/ changes"),
    "reset": (reset, "put an item's or exercise's stub back (your version is backed up)"),
    "grade": (grade, "grade a class's submissions into a gradebook (instructors)"),
    "stubs": (stubs, "regenerate exercises/ from solutions/ (maintainers)"),
    "snapshot": (snapshot, "regenerate fixtures/snapshots/ from solutions/ (maintainers)"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlgrade", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][0].run(args)


if __name__ == "__main__":
    sys.exit(main())
