"""Correct, differently: einsum scores, every mask turned into one additive float mask first."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_attention_matches_torch_sdpa", "checks/test_ex5.py::test_mask_meaning",
          "checks/test_ex5.py::test_causal_query_sees_itself_and_the_past",
          "checks/test_ex5.py::test_multi_head_attention_matches_nn_multiheadattention"]


def scaled_dot_product_attention(query, key, value, attn_mask=None, *, is_causal=False):
    length, source = query.shape[-2], key.shape[-2]
    bias = torch.zeros(length, source, dtype=query.dtype)
    if is_causal:
        bias = bias + torch.full((length, source), float("-inf")).triu(1)
    if attn_mask is not None:
        bias = bias + (torch.zeros_like(attn_mask, dtype=query.dtype).masked_fill(~attn_mask, float("-inf"))
                       if attn_mask.dtype == torch.bool else attn_mask)
    scores = torch.einsum("...ld,...sd->...ls", query, key) * query.shape[-1] ** -0.5 + bias
    return torch.einsum("...ls,...sv->...lv", scores.softmax(-1), value)
