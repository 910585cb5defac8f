"""The message catalogue: every learner-facing string of the harness and the checks, in English and Chinese.

A string is written in English in the code, as a gettext msgid with named placeholders:

    from dlgrade.core.i18n import tr
    fail(tr("{function}() returned the wrong shape", function="encode"), expected=..., got=...)

`tr` looks the msgid up in the Chinese catalogue (dlgrade/locale/zh/LC_MESSAGES/dlgrade.po) when
the learner's language is Chinese, then fills the placeholders (str.format). A msgid the catalogue
lacks comes out in English; tests/test_i18n.py fails on it. Strings defined before the language
is known (module constants) are marked with `N_` and translated where they are shown: `tr(CONSTANT)`.

The .po file is read directly by the small loader below (no compile step, no .mo file): it is the
standard format, so Babel or Poedit can edit it, but nothing here needs them.

The language is chosen once per process: `--lang` (the pytest plugin and the learner commands
call set_lang), then DLGRADE_LANG, then the project's setting (`dlgrade lang zh`: a top-level
`lang = "zh"` in the learner's progress.toml), then the locale (zh_* means Chinese), else English.
The setting lives in progress.toml because learners commit that file: CI's report then speaks the
learner's language too, and a release writes a fresh progress.toml, so it never carries the author's.
"""
from __future__ import annotations

import ast
import locale
import os
import re
import sys
import tomllib
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from dlgrade.core.project import Project, ProjectNotFound

LANGS = ("en", "zh")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "dlgrade"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")

# progress.toml's top-level key for the project's language.
SETTING = "lang"

_current: str | None = None


def project_lang() -> str | None:
    """The language set for the project you stand in (`dlgrade lang`), or None.

    A progress.toml that cannot be read counts as no setting: the commands that read its ticks say why.
    """
    try:
        path = Project.locate().progress_file
        value = tomllib.loads(path.read_text(encoding="utf-8")).get(SETTING)
    except (ProjectNotFound, OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    if value is not None and value not in LANGS:
        raise ValueError(f"{path}: {SETTING} must be one of {LANGS}, not {value!r} (dlgrade lang zh|en|auto sets it)")
    return value


def detect_lang(explicit: str | None = None) -> str:
    """--lang wins, then DLGRADE_LANG, then the project's setting, then the locale (zh_* -> zh), else English."""
    chosen = explicit or os.environ.get("DLGRADE_LANG") or project_lang()  # read only when needed
    if chosen:
        if chosen not in LANGS:
            raise ValueError(f"language must be one of {LANGS}, not {chosen!r}")
        return chosen
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    current = locale.getlocale()[0] or ""
    return "zh" if current.lower().startswith("zh") else "en"


def N_(msgid: str) -> str:
    """Mark a constant for the catalogue; translate it where it is shown, with tr()."""
    return msgid


LANG_HELP = N_("en or zh (default: DLGRADE_LANG, then `dlgrade lang`, then the locale)")


def add_lang_option(add: Callable[..., object], dest: str = "lang") -> None:
    """The one --lang option, for an argparse parser (`parser.add_argument`) or a pytest option
    group (`group.addoption`): both take argparse's arguments."""
    add("--lang", dest=dest, choices=LANGS, default=None, help=tr(LANG_HELP))


def lang_in_argv(argv: list[str]) -> str | None:
    """--lang's value read before any parser runs (help texts are built in that language)."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in LANGS:
            return argv[i + 1]
        if arg.startswith("--lang=") and arg.removeprefix("--lang=") in LANGS:
            return arg.removeprefix("--lang=")
    return None


def set_lang(lang: str | None) -> str:
    """Choose this process's language (None: detect it); returns the language chosen."""
    global _current
    _current = detect_lang(lang)
    return _current


def get_lang() -> str:
    return _current if _current is not None else set_lang(None)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}


def _unquote(token: str, where: str) -> str:
    if not (token.startswith('"') and token.endswith('"') and len(token) >= 2):
        raise ValueError(f"{where}: expected a quoted string, found {token!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), token[1:-1])


def parse_po(text: str, name: str = "catalogue") -> dict[str, str]:
    """msgid -> msgstr of a .po file (no plural forms or contexts: the catalogue does not use them).

    Fuzzy entries and empty translations are left out, as gettext's msgfmt does.
    """
    entries: dict[str, str] = {}
    msgid: str | None = None
    msgstr: str | None = None
    field = None
    fuzzy = next_fuzzy = False

    def flush() -> None:
        if msgid and msgstr and not fuzzy:
            entries[msgid] = msgstr

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        where = f"{name}:{number}"
        if not line:
            continue
        if line.startswith("#"):
            if line.startswith("#,") and "fuzzy" in line:
                next_fuzzy = True
            continue
        if line.startswith("msgid "):
            flush()
            msgid, msgstr, field = _unquote(line[6:].strip(), where), None, "msgid"
            fuzzy, next_fuzzy = next_fuzzy, False
        elif line.startswith("msgstr "):
            msgstr, field = _unquote(line[7:].strip(), where), "msgstr"
        elif line.startswith('"'):
            if field == "msgid":
                msgid = (msgid or "") + _unquote(line, where)
            elif field == "msgstr":
                msgstr = (msgstr or "") + _unquote(line, where)
            else:
                raise ValueError(f"{where}: a continuation line outside msgid/msgstr")
        else:
            raise ValueError(f"{where}: unsupported .po line {line!r} (msgctxt and plurals are not used)")
    flush()
    return entries


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    path = po_path(lang)
    if lang == "en" or not path.exists():
        return {}
    return parse_po(path.read_text(encoding="utf-8"), str(path))


def translate(msgid: str, lang: str, **fields: object) -> str:
    """`msgid` in `lang`, placeholders filled."""
    text = catalogue(lang).get(msgid, msgid) if lang != "en" else msgid
    return text.format(**fields) if fields else text


def tr(msgid: str, /, **fields: object) -> str:
    """`msgid` in the learner's language, placeholders filled: tr("{n} calls", n=3)."""
    return translate(msgid, get_lang(), **fields)


def translate_argparse() -> None:
    """argparse's own words (usage:, options, its error lines) in the learner's language.

    argparse phrases them through gettext's `_`, looked up in its module globals at each call;
    their msgids are in the catalogue under "argparse".
    """
    import argparse

    argparse._ = lambda text: translate(text, get_lang())  # type: ignore[attr-defined]


def has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


def placeholders(text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)[^{}]*\}", text)}


# ---------------------------------------------------------------- maintenance: which msgids the code uses

MARKERS = ("tr", "N_", "translate")


def msgids_in(source: str, filename: str = "<source>") -> list[tuple[str, int]]:
    """(msgid, line) of every tr("...") / N_("...") / translate("...") call with a literal first argument."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        first = node.args[0]
        if name in MARKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.append((first.value, node.lineno))
    return found


def untranslated(paths: list[Path], lang: str = "zh") -> list[str]:
    """'file:line: msgid' for every msgid used in `paths` that the catalogue does not translate."""
    known = catalogue(lang)
    missing = []
    for path in paths:
        for msgid, line in msgids_in(path.read_text(encoding="utf-8"), str(path)):
            if msgid not in known:
                missing.append(f"{path}:{line}: {msgid}")
    return missing


def _po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def main(argv: list[str] | None = None) -> int:
    """`python -m dlgrade.core.i18n FILE...`: print, as .po entries, the msgids of FILEs the catalogue lacks."""
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    known = catalogue("zh")
    seen = set()
    for path in paths:
        for msgid, line in msgids_in(path.read_text(encoding="utf-8"), str(path)):
            if msgid in known or msgid in seen:
                continue
            seen.add(msgid)
            print(f"#: {path}:{line}\nmsgid {_po_quote(msgid)}\nmsgstr \"\"\n")
    return 1 if seen else 0


if __name__ == "__main__":
    sys.exit(main())
