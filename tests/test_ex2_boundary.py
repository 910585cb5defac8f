"""Exercise 2's checks behind the learner-process boundary (tests/test_learner_process.py shows that
the learner's file is imported in the learner process only): the recipes that build its model there
and observe what the model receives (generate()'s arguments, every forward call's tokens, cache, mask
and positions) report it as data."""
from __future__ import annotations

import pytest
import torch
from gradelib import REPO_ROOT

from dlgrade.boundary.proxy import Handle, LearnerProcess
from dlgrade.boundary.recipes import generation

TINY = REPO_ROOT / "fixtures" / "ex2" / "tiny-qwen2"


@pytest.fixture(scope="module")
def tiny():
    from transformers import AutoModelForCausalLM
    return AutoModelForCausalLM.from_pretrained(TINY).eval()


def test_a_forward_log_records_tokens_cache_mask_and_positions(tiny):
    from transformers import DynamicCache
    log = generation.watch_forward(tiny)
    cache = DynamicCache(config=tiny.config)
    mask = torch.tensor([[0, 1, 1], [1, 1, 1]])
    with torch.no_grad():
        tiny.model(input_ids=torch.tensor([[5, 6, 7], [8, 9, 10]]), attention_mask=mask,
                   position_ids=torch.tensor([[0, 0, 1], [0, 1, 2]]), cache=cache, use_cache=True)
        tiny.model(input_ids=torch.tensor([[11], [12]]), cache=cache, use_cache=True)  # no mask, no positions
    calls = generation.forward_calls(log)
    assert [(c["rows"], c["length"], c["cached"]) for c in calls] == [(2, 3, 0), (2, 1, 3)]
    assert torch.equal(calls[0]["mask"], mask) and calls[1]["mask"] is None
    assert calls[0]["positions"].tolist() == [[0, 0, 1], [0, 1, 2]]
    assert calls[1]["positions"].tolist() == [[3], [3]]  # what the model uses itself without position_ids
    assert not tiny.model._forward_pre_hooks  # forward_calls stops watching


def test_a_generate_log_records_the_arguments_and_puts_generate_back(tiny):
    log = generation.watch_generate(tiny)
    ids = torch.tensor([[5, 6, 7]])
    tiny.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=2, do_sample=False)
    calls = generation.generate_calls(log)
    assert len(calls) == 1 and torch.equal(calls[0]["args"][0], ids)
    assert calls[0]["attention_mask"].shape == ids.shape and calls[0]["max_new_tokens"] == 2
    assert "generate" not in vars(tiny)


@pytest.mark.slow
def test_a_causal_lm_is_built_and_observed_in_the_learner_process(tmp_path):
    (tmp_path / "ex9_lm.py").write_text("def logits(model, ids):\n    return model(input_ids=ids).logits\n")
    process = LearnerProcess(tmp_path)
    try:
        ex9 = process.module("ex9_lm.py").load()
        model, tokenizer = process.recipe("causal_lm", TINY)
        assert isinstance(model, Handle) and isinstance(tokenizer, Handle)
        assert model.dlgrade_is("transformers.models.qwen2.modeling_qwen2.Qwen2ForCausalLM")
        log = process.recipe("watch_forward", model)
        ids = torch.tensor(tokenizer("The for statement")["input_ids"])[None]
        assert ex9.logits(model, ids).shape == (1, ids.shape[1], 2000)
        calls = process.recipe("forward_calls", log)
        assert [(c["rows"], c["length"], c["cached"]) for c in calls] == [(1, ids.shape[1], 0)]
        assert type(calls[0]["positions"]) is torch.Tensor  # data, decoded here
    finally:
        process.stop()
