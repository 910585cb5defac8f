"""Passes the attention mask to the prefill only: the steps attend to the prompt's padding."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
SAYS = ["got no attention mask"]
REPLACE = [("hidden = model.model(input_ids=running[:, :, cur_len - 1].reshape(-1, 1), attention_mask=mask,",
            "hidden = model.model(input_ids=running[:, :, cur_len - 1].reshape(-1, 1), attention_mask=None,")]
