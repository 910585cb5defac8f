"""`dlgrade COMMAND`: one module of this package per command."""
from __future__ import annotations

import argparse
import sys

from dlgrade import autograder, checklist, grade, hint, next_step, release, report, reset, snapshot, stubs, watch
from dlgrade.i18n import N_, set_lang, tr, translate_argparse

COMMANDS = {
    # the learner commands' help is in the catalogue (dlgrade/i18n.py): --lang or DLGRADE_LANG=zh shows it in Chinese
    "report": (report, N_("show your progress over the whole curriculum (runs the checks that changed)")),
    "next": (next_step, N_("the first unfinished item: what to open, what to run")),
    "hint": (hint, N_("an item's or exercise's hint, file and check command")),
    "watch": (watch, N_("rerun the current item's checks whenever a file it depends on changes")),
    "reset": (reset, N_("put an item's or exercise's stub back (your version is backed up)")),
    "checklist": (checklist, N_("your own copy of the curriculum checklist: dlgrade checklist init PATH")),
    "grade": (grade, "grade a class's submissions into a gradebook (instructors)"),
    "release": (release, "write the learners' repository: stubs, checks, data, no answers (instructors)"),
    "autograder": (autograder, "write a Gradescope autograder bundle (instructors)"),
    "stubs": (stubs, "regenerate exercises/ from solutions/ (maintainers)"),
    "snapshot": (snapshot, "regenerate fixtures/snapshots/ from solutions/ (maintainers)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    set_lang(_lang_option(argv))
    translate_argparse()
    parser = argparse.ArgumentParser(prog="dlgrade", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=tr(help_text), description=tr(help_text)))
    args = parser.parse_args(argv)
    return COMMANDS[args.command][0].run(args)


def _lang_option(argv: list[str]) -> str | None:
    """--lang's value before argparse runs: the help texts are built in that language."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in ("en", "zh"):
            return argv[i + 1]
        if arg in ("--lang=en", "--lang=zh"):
            return arg.split("=", 1)[1]
    return None


if __name__ == "__main__":
    sys.exit(main())
