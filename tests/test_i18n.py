"""The message catalogue: every learner-facing string has Chinese, and a Chinese run shows no English prose."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from gradelib import MUTANTS_DIR, patched_solutions, patches, run_checks

from dlgrade.checkkit.feedback import CheckFailure, prose
from dlgrade.core import i18n
from dlgrade.core.project import Project

CHECKS_DIR = Project.locate().checks
REPO_ROOT = Project.locate().root

HARNESS = sorted((REPO_ROOT / "dlgrade").rglob("*.py"))
CHECKS = sorted(CHECKS_DIR.glob("*.py"))
# A few mutants, one or two per exercise, whose checks run in seconds: their failure messages in Chinese.
ZH_MUTANTS = ["ex1_photo_not_inverted", "ex2_inspect_single_eos_not_listed", "ex3_wrong_model",
              "ex4_softmax_wrong_axis", "ex5_rope_rotates_backwards"]
PROSE = re.compile(r"[A-Za-z]{2,}[,:;]?\s+[A-Za-z]{2,}[,:;]?\s+[A-Za-z]{2,}")
CAPTURED = re.compile(r"^-+ Captured .* -+$")
PYTEST_OWN = re.compile(r"^(=+ .* =+|_+ .* _+|\S+\.py [.sFEx]+.*|[.sFEx]+\s*\[\s*\d+%\]|\d+ (passed|failed|skipped).*"
                        r"|.*\b(passed|failed|skipped|deselected|warnings?) in [\d.]+s.*)$")


def test_the_catalogue_parses_and_keeps_every_placeholder():
    text = i18n.po_path("zh").read_text(encoding="utf-8")
    entries = i18n.parse_po(text)
    assert len(entries) == text.count("\nmsgid ") - 1  # no entry lost, none empty or fuzzy (the header is msgid "")
    for msgid, msgstr in entries.items():
        assert i18n.placeholders(msgid) == i18n.placeholders(msgstr), msgid
        assert i18n.has_cjk(msgstr), msgid


def test_every_string_marked_for_translation_has_chinese():
    missing = i18n.untranslated(HARNESS + CHECKS)
    assert not missing, "msgids without Chinese (python -m dlgrade.core.i18n FILE prints them as .po entries):\n" + \
        "\n".join(missing)


def test_every_catalogue_entry_is_still_used():
    """No dead entries: each msgid is a string of the harness, the checks, the hidden checks or argparse
    (whose own words the harness translates: i18n.translate_argparse)."""
    import argparse
    import ast

    used = set()
    for path in [*HARNESS, *CHECKS, *sorted((REPO_ROOT / "hidden_checks").glob("*.py")), Path(argparse.__file__)]:
        used.update(node.value for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                    if isinstance(node, ast.Constant) and isinstance(node.value, str))
    unused = sorted(set(i18n.catalogue("zh")) - used - {""})
    assert not unused, "catalogue entries no code uses (remove them from the .po):\n" + "\n".join(unused)


def test_po_loader_reads_continuations_escapes_and_skips_fuzzy():
    po = '''msgid ""
msgstr "Language: zh\\n"

msgid "a {x}"
msgstr "甲 {x}"

#, fuzzy
msgid "b"
msgstr "乙"

msgid ""
"multi "
"line \\"q\\""
msgstr "多行\\n\\"引号\\""
'''
    entries = i18n.parse_po(po)
    assert entries == {"a {x}": "甲 {x}", 'multi line "q"': '多行\n"引号"'}
    assert i18n.translate("a {x}", "en", x=1) == "a 1"


def test_feedback_is_translated_and_shows_the_difference():
    i18n.set_lang("zh")
    try:
        import torch
        dtype = str(CheckFailure("dtype", expected="torch.float32", got=torch.float32))
        boxes = str(CheckFailure("box", expected=(0, 0, 32, 32), got=[0, 0, 32, 32]))
        long = str(CheckFailure("reply", expected="a" * 150 + "b" + "c" * 80, got="a" * 150 + "X" + "c" * 80))
        nothing = str(CheckFailure("value", expected=None, got=3))
        described = str(CheckFailure("calls", expected=5, got=prose("3 calls")))
    finally:
        i18n.set_lang("en")
    assert "'torch.float32' (str)" in dtype and "torch.float32 (torch.dtype)" in dtype and "期望" in dtype
    assert "(tuple)" in boxes and "(list)" in boxes
    lines = long.splitlines()
    assert lines[1].startswith("期望:") and lines[2].startswith("得到:") and "位置 150" in lines[3]
    caret = lines[3].index("^")
    width = lambda text: sum(2 if i18n.has_cjk(c) else 1 for c in text)  # noqa: E731
    assert width(lines[1][:lines[1].index("b")]) == caret == width(lines[2][:lines[2].index("X")])
    assert "b" in lines[1] and "X" in lines[2]  # the difference is never cut off
    assert "期望 None" in nothing and "得到 3 calls" in described


def untranslated_lines(output: str) -> list[str]:
    """Lines of a Chinese run that are English prose: neither Chinese, nor code, nor pytest's own.

    What the learner's code printed (pytest's "Captured ..." sections) is the learner's, not ours.
    """
    bad, captured = [], False
    for line in output.splitlines():
        stripped = line.strip()
        if CAPTURED.match(stripped):
            captured = True
            continue
        if PYTEST_OWN.match(stripped):
            captured = False
            continue
        if captured or not stripped or i18n.has_cjk(stripped):
            continue
        if PROSE.search(stripped):
            bad.append(line)
    return bad


@pytest.mark.slow
def test_a_chinese_run_on_the_stubs_has_no_english_prose(stubs_run):
    run = stubs_run  # the session's one run of every check on the stubs is a Chinese run (tests/conftest.py)
    assert run.results.get("tests"), run.output[-3000:]
    bad = untranslated_lines(run.output)
    assert not bad, "\n".join(bad[:40])
    outputs = [t["output"] for t in run.results["tests"] if t["output"]]
    assert outputs and all(i18n.has_cjk(o.splitlines()[0]) for o in outputs)


@pytest.mark.parametrize("mutant", [m for m in patches(MUTANTS_DIR, "CATCHES") if m.name in ZH_MUTANTS],
                         ids=lambda m: m.name)
@pytest.mark.slow
def test_a_chinese_run_on_a_mutant_has_no_english_prose(mutant, tmp_path):
    submission = patched_solutions(mutant, tmp_path)
    run = run_checks(tmp_path / "results.json", *mutant.checks, "--lang", "zh", target=submission,
                     extra_env={"DLGRADE_LANG": "zh"})
    failed = [t for t in run.results.get("tests", []) if t["extra_data"]["dlgrade_status"] == "failed"]
    assert failed, run.output[-3000:]
    bad = untranslated_lines(run.output)
    assert not bad, "\n".join(bad[:40])
