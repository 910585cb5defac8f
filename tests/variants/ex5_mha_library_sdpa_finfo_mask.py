"""Correct, differently: heads through torch's own SDPA, padding as a large negative float, not -inf."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_multi_head_attention_matches_nn_multiheadattention"]


def multi_head_attention(query, key, value, num_heads, w_q, w_k, w_v, w_o, b_q=None, b_k=None, b_v=None, b_o=None, *,
                         key_padding_mask=None, is_causal=False):
    batch, length, embed = query.shape
    split = [t.reshape(batch, t.shape[1], num_heads, -1).permute(0, 2, 1, 3)
             for t in (F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v))]
    bias = torch.zeros(batch, 1, length, key.shape[1])
    if key_padding_mask is not None:
        bias = bias.masked_fill(key_padding_mask[:, None, None, :], torch.finfo(torch.float32).min)
    if is_causal:
        bias = bias.masked_fill(~torch.ones(length, key.shape[1], dtype=torch.bool).tril(),
                                torch.finfo(torch.float32).min)
    out = F.scaled_dot_product_attention(*split, attn_mask=bias)
    return out.permute(0, 2, 1, 3).reshape(batch, length, embed) @ w_o.T + (0 if b_o is None else b_o)
