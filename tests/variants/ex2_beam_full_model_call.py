"""Correct, differently: calls model(...) and reads .logits instead of model.model(...) + model.lm_head."""
TARGET = "ex2_llm.py"
PASSES = ["checks/test_ex2.py::test_beam_search_tier1_fixed_length",
          "checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches",
          "checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
REPLACE = [("hidden = model.model(input_ids=input_ids.repeat_interleave", "hidden = model(input_ids=input_ids.repeat_interleave"),
           (""".last_hidden_state
        logits = model.lm_head(hidden[:, -1, :]).float()
    next_position""", """.logits
        logits = hidden[:, -1, :].float()
    next_position"""),
           ("hidden = model.model(input_ids=running", "hidden = model(input_ids=running"),
           (""".last_hidden_state
            logits = model.lm_head(hidden[:, -1, :]).float()""", """.logits
            logits = hidden[:, -1, :].float()""")]
