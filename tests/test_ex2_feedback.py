"""What exercise 2's beam-search checks tell a learner whose search breaks more than one thing."""
from __future__ import annotations

from gradelib import MUTANTS_DIR, patched_solutions, read_patch, run_checks

TIER2 = "checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches"


def test_a_token_difference_is_reported_before_a_score_difference(tmp_path):
    """Normalising by the whole length changes every score and, once hypotheses end in EOS, which
    one wins: the learner must see the wrong tokens, not a score-only example hypothesis shrank to."""
    mutant = read_patch(MUTANTS_DIR / "ex2_beam_length_with_prompt.py", "CATCHES")
    run = run_checks(tmp_path / "results.json", TIER2, target=patched_solutions(mutant, tmp_path))
    (test,) = run.results["tests"]
    assert test["extra_data"]["dlgrade_status"] == "failed", test["output"]
    assert "tokens differ from generate()" in test["output"], test["output"]
    assert "sequences_scores" not in test["output"], test["output"]
