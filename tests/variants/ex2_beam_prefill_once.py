"""Correct, differently: prefills each prompt once (batch rows, not batch x beams) and repeats the cache per beam."""
TARGET = "ex2_llm.py"
PASSES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length",
          "checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches",
          "checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
REPLACE = [("""    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        hidden = model.model(input_ids=input_ids.repeat_interleave(k, dim=0), attention_mask=mask,
                             position_ids=positions, cache=cache, use_cache=True).last_hidden_state
        logits = model.lm_head(hidden[:, -1, :]).float()
""", """    cache = DynamicCache(config=model.config)
    with torch.no_grad():
        hidden = model.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions[::k],
                             cache=cache, use_cache=True).last_hidden_state
        logits = model.lm_head(hidden[:, -1, :]).float().repeat_interleave(k, dim=0)
    cache.batch_repeat_interleave(k)
""")]
