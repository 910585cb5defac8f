"""`dlgrade COMMAND`: a table of commands, each a module imported only when it runs."""
from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from dlgrade.core.i18n import N_, lang_in_argv, set_lang, tr, translate_argparse

# name -> (module, help). The learner commands' help is in the catalogue (dlgrade/core/i18n.py):
# --lang or DLGRADE_LANG=zh shows it in Chinese.
COMMANDS: dict[str, tuple[str, str]] = {
    "report": ("dlgrade.learner.report",
               N_("show your progress over the whole curriculum (runs the checks that changed)")),
    "next": ("dlgrade.learner.next_step", N_("the first unfinished item: what to open, what to run")),
    "hint": ("dlgrade.learner.hint", N_("an item's or exercise's hint, file and check command")),
    "watch": ("dlgrade.learner.watch", N_("rerun the current item's checks whenever a file it depends on changes")),
    "reset": ("dlgrade.learner.reset", N_("put an item's or exercise's stub back (your version is backed up)")),
    "checklist": ("dlgrade.learner.checklist",
                  N_("your own copy of the curriculum checklist: dlgrade checklist init PATH")),
    "lang": ("dlgrade.learner.lang", N_("the language of every command here, set once: dlgrade lang zh")),
    "notebook": ("dlgrade.learner.notebook",
                 N_("write an exercise as a Jupyter notebook paired with its .py: dlgrade notebook ex1")),
    "grade": ("dlgrade.grading.grader", N_("grade a class's submissions into a gradebook (instructors)")),
    "release": ("dlgrade.shipping.release",
                N_("write the learners' repository: stubs, checks, data, no answers (instructors)")),
    "autograder": ("dlgrade.shipping.gradescope_bundle", N_("write a Gradescope autograder bundle (instructors)")),
    # kept at the top level too: release tooling and earlier instructions call `dlgrade stubs --check`
    "stubs": ("dlgrade.dev", N_("the same as dlgrade dev stubs (maintainers)")),
}
DEV_COMMANDS: dict[str, tuple[str, str]] = {
    "stubs": ("dlgrade.dev", N_("regenerate exercises/ from solutions/ (maintainers)")),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    set_lang(lang_in_argv(argv))
    translate_argparse()
    parser = argparse.ArgumentParser(prog="dlgrade", description=tr(N_("the dlgrade commands")))
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = _chosen(argv)
    for name, (module, help_text) in COMMANDS.items():
        _add(sub, name, module, help_text, load=name == chosen)
    dev = sub.add_parser("dev", help=tr(N_("maintainers' commands")), description=tr(N_("maintainers' commands")))
    dev_sub = dev.add_subparsers(dest="dev_command", required=True)
    for name, (module, help_text) in DEV_COMMANDS.items():
        _add(dev_sub, name, module, help_text, load=chosen == "dev")
    args = parser.parse_args(argv)
    table = DEV_COMMANDS if args.command == "dev" else COMMANDS
    name = args.dev_command if args.command == "dev" else args.command
    return _module(table[name][0]).run(args)


def _add(sub: argparse._SubParsersAction, name: str, module: str, help_text: str, *, load: bool) -> None:
    """A subcommand; its module (and what it imports) is loaded only for the command that runs."""
    parser = sub.add_parser(name, help=tr(help_text), description=tr(help_text))
    if load:
        _module(module).add_arguments(parser)


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def _chosen(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is one), before argparse runs."""
    for arg in argv:
        if arg in COMMANDS or arg == "dev":
            return arg
    return None


if __name__ == "__main__":
    sys.exit(main())
