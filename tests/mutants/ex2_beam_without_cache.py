"""No KV cache: re-encodes every beam's whole sequence at each step (caught by counting the tokens
each forward call receives, not by the learners' speed gate, which load on a shared machine can fool)."""
TARGET = "ex2_llm.py"
CATCHES = ["checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]
REPLACE = [("""            hidden = model.model(input_ids=running[:, :, cur_len - 1].reshape(-1, 1), attention_mask=mask,
                                 position_ids=next_position, cache=cache, use_cache=True).last_hidden_state""",
            """            full_positions = mask.long().cumsum(-1) - 1
            full_positions.masked_fill_(mask == 0, 1)
            hidden = model.model(input_ids=running[:, :, :cur_len].reshape(batch * k, -1), attention_mask=mask,
                                 position_ids=full_positions, use_cache=False).last_hidden_state""")]
