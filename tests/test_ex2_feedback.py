"""What exercise 2's checks tell a learner, beyond "a mutant is caught": which mistake the message
names, and which hint comes with it."""
from __future__ import annotations

import pytest
from gradelib import MUTANTS_DIR, Patch, patched_solutions, read_patch, run_checks

pytestmark = pytest.mark.slow
CHECKS = "checks/test_ex2.py"
TIER2 = f"{CHECKS}::test_beam_search_tier2_eos_penalty_batches"
KV_CACHE = f"{CHECKS}::test_beam_search_uses_the_kv_cache"
COMPARE = f"{CHECKS}::test_compare_greedy_and_beam"
PERPLEXITY = f"{CHECKS}::test_perplexity_matches_the_logits"
LOAD_FLOAT32 = f"{CHECKS}::test_load_model[float32-folder-stored-dtype]"


def failed_output(tmp_path, mutant_name: str, selector: str) -> str:
    mutant = read_patch(MUTANTS_DIR / f"{mutant_name}.py", "CATCHES")
    run = run_checks(tmp_path / "results.json", selector, target=patched_solutions(mutant, tmp_path))
    failed = [t for t in run.results["tests"] if t["extra_data"]["dlgrade_status"] == "failed"]
    assert failed, run.output[-3000:]
    return "\n".join(t["output"] for t in failed)


def test_a_token_difference_is_reported_before_a_score_difference(tmp_path):
    """Normalising by the whole length changes every score and, once hypotheses end in EOS, which
    one wins: the learner must see the wrong tokens, not a score-only example hypothesis shrank to."""
    output = failed_output(tmp_path, "ex2_beam_length_with_prompt", TIER2)
    assert "tokens differ from generate()" in output, output
    assert "sequences_scores" not in output, output


def test_a_mask_dropped_after_the_prefill_is_not_blamed_on_positions(tmp_path):
    output = failed_output(tmp_path, "ex2_beam_mask_dropped_after_prefill", KV_CACHE)
    assert "a step after the prefill" in output and "no attention mask" in output, output
    assert "position ids" not in output, output


def test_a_repetition_penalty_mismatch_gets_the_generate_settings_hint(tmp_path):
    output = failed_output(tmp_path, "ex2_compare_keeps_repetition_penalty", COMPARE)
    assert "pass repetition_penalty=1.0" in output, output
    assert "NLL" not in output and "perplexity() of the continuation" not in output, output


def test_padding_with_the_wrong_id_is_named_as_such(tmp_path):
    output = failed_output(tmp_path, "ex2_beam_fill_with_first_eos", TIER2)
    assert "filled with id 1999" in output and "tokens differ" not in output, output


def test_an_exception_without_text_shows_what_it_is(tmp_path):
    """`raise AttributeError` carries no message: the learner still sees which exception it was."""
    patch_file = tmp_path / "raises.py"
    patch_file.write_text("def perplexity(model, prompt_ids, continuation_ids):\n    raise AttributeError\n")
    patch = Patch(patch_file, "ex2_llm.py", [PERPLEXITY], "")
    run = run_checks(tmp_path / "results.json", PERPLEXITY, target=patched_solutions(patch, tmp_path / "patched"))
    outputs = [t["output"] for t in run.results["tests"]]
    assert outputs and all("your code raised AttributeError: AttributeError()" in o for o in outputs), outputs


def test_a_model_with_other_weights_is_told_apart_by_its_logits(tmp_path):
    """The right class, dtype and tokenizer, but weights that are not the folder's: the logits on token
    ids drawn at run time, compared with the checks' own copy, name it."""
    patch_file = tmp_path / "config_only.py"
    patch_file.write_text("def load_model(folder, *, dtype=None, device='cpu'):\n"
                          "    from transformers import AutoConfig\n"
                          "    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(folder)).eval()\n"
                          "    return model, AutoTokenizer.from_pretrained(folder)\n")
    patch = Patch(patch_file, "ex2_llm.py", [LOAD_FLOAT32], "")
    run = run_checks(tmp_path / "results.json", LOAD_FLOAT32, target=patched_solutions(patch, tmp_path / "patched"))
    outputs = [t["output"] for t in run.results["tests"]]
    assert outputs and all("the logits of load_model()'s model on 18 token ids" in o and
                           "load the weights of the folder given" in o for o in outputs), outputs
