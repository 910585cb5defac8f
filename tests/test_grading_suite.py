"""The curriculum checks themselves: pass on the reference, fail on stubs and on every mutant."""
from __future__ import annotations

import re

import pytest
from gradelib import MUTANTS_DIR, VARIANTS_DIR, collect_manifest, patched_solutions, patches, run_checks

from dlgrade.core import curriculum

pytestmark = pytest.mark.slow
MUTANTS = patches(MUTANTS_DIR, "CATCHES")
RAW_TRACEBACK = re.compile(r'Traceback \(most recent call last\)|^\s*File "[^"]+", line \d+', re.M)
EMPTY_EXCEPTION = re.compile(r"raised \w+(Error|Exception): *(\(|$)", re.M)
VARIANTS = patches(VARIANTS_DIR, "PASSES")


def test_every_check_passes_on_solutions(solutions_run):
    statuses = solutions_run.statuses()
    assert statuses, solutions_run.output[-3000:]
    failing = {n: s for n, s in statuses.items() if s not in ("passed", "skipped")}
    assert not failing, f"checks failing on solutions/: {failing}\n{solutions_run.output[-3000:]}"
    assert solutions_run.results["score"] == solutions_run.results["max_score"] > 0
    print(solutions_run.output[-2500:])  # the --durations table, shown with `pytest -s`


def test_every_check_reports_not_started_on_stubs(stubs_run):
    statuses = stubs_run.statuses()
    assert statuses, stubs_run.output[-3000:]
    wrong = {n: s for n, s in statuses.items() if s not in ("not_started", "skipped")}
    assert not wrong, f"checks not reporting 'not started' on the stubs: {wrong}"
    assert stubs_run.results["score"] == 0


def test_stub_failures_are_short(stubs_run):
    for test in stubs_run.results["tests"]:
        assert len(test["output"].splitlines()) <= 3, test["output"]
    assert "Traceback" not in stubs_run.output


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(mutant, tmp_path):
    submission = patched_solutions(mutant, tmp_path)
    run = run_checks(tmp_path / "results.json", *mutant.checks, target=submission)
    statuses = run.statuses()
    assert statuses, f"{mutant.name}: no checks ran\n{run.output[-3000:]}"
    for selector in mutant.checks:
        mine = {n: s for n, s in statuses.items() if n == selector or n.startswith(selector + "[")}
        assert mine, f"{mutant.name} names a check that does not exist: {selector}"
        assert "failed" in mine.values(), (
            f"mutant {mutant.name} ({mutant.doc}) survives {selector}: {mine}\n{run.output[-3000:]}")
    failed = {n: t["output"] for n, t in run.by_nodeid().items() if t["extra_data"]["dlgrade_status"] == "failed"}
    said = "\n".join(failed.values())
    for words in mutant.says or []:
        assert words in said, f"{mutant.name}: the failure does not say {words!r}:\n{said[-3000:]}"
    for nodeid, output in failed.items():
        assert_explains_itself(mutant.name, nodeid, output)


def assert_explains_itself(name: str, nodeid: str, output: str) -> None:
    """A failure the learner can act on: this check's own hint, an exception's text, no raw traceback."""
    assert "\nhint: " in output, f"{name}: {nodeid} fails without a hint of its own:\n{output}"
    assert not RAW_TRACEBACK.search(output), f"{name}: {nodeid} shows a raw traceback line:\n{output}"
    assert not EMPTY_EXCEPTION.search(output), f"{name}: {nodeid} names an exception without its text:\n{output}"
    assert "\x1b[" not in output, f"{name}: {nodeid} shows terminal colour codes:\n{output!r}"


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
def test_correct_variant_passes(variant, tmp_path):
    submission = patched_solutions(variant, tmp_path)
    run = run_checks(tmp_path / "results.json", *variant.checks, target=submission)
    statuses = run.statuses()
    assert statuses, f"{variant.name}: no checks ran\n{run.output[-3000:]}"
    failing = {n: t["output"] for n, t in run.by_nodeid().items()
               if t["extra_data"]["dlgrade_status"] not in ("passed", "skipped")}
    assert not failing, f"correct variant {variant.name} ({variant.doc}) fails: {failing}"


def test_every_item_is_guarded_by_a_mutant(tmp_path):
    checks = collect_manifest(tmp_path / "manifest.json")
    item_of = {c["nodeid"]: c["item"] for c in checks}
    caught_items = set()
    for mutant in MUTANTS:
        for selector in mutant.checks:
            caught_items |= {item for nodeid, item in item_of.items()
                             if nodeid == selector or nodeid.startswith(selector + "[")}
    graded = {i.id for i in curriculum.load().items if i.graded}
    assert graded <= caught_items, f"items no mutant exercises: {sorted(graded - caught_items)}"
