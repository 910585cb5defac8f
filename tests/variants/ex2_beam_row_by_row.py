"""Correct, differently: searches one row at a time (prefill once per row, one token per beam per step)."""
TARGET = "ex2_llm.py"
PASSES = ["checks/test_ex2.py::test_beam_search_tier2_eos_penalty_batches",
          "checks/test_ex2.py::test_beam_search_uses_the_kv_cache"]

_search_one_batch = beam_search


def beam_search(model, input_ids, attention_mask=None, *, eos_token_id=None, pad_token_id=None, **settings):
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    rows = [_search_one_batch(model, input_ids[i:i + 1], attention_mask[i:i + 1], eos_token_id=eos_token_id,
                              pad_token_id=pad_token_id, **settings) for i in range(len(input_ids))]
    eos = [eos_token_id] if isinstance(eos_token_id, int) else list(eos_token_id or [])
    fill = pad_token_id or (eos[0] if eos else -1)
    width = max(seq.shape[1] for seq, _ in rows)
    sequences = torch.full((len(rows), width), fill, dtype=torch.long)
    for i, (seq, _) in enumerate(rows):
        sequences[i, :seq.shape[1]] = seq[0]
    return sequences, torch.cat([score for _, score in rows])
