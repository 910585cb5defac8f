"""Multi-head attention scaled by sqrt(embed_dim) instead of sqrt(d_head)."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_multi_head_attention_matches_nn_multiheadattention"]
REPLACE = [("out = scaled_dot_product_attention(heads(query, w_q, b_q),",
            "out = scaled_dot_product_attention(heads(query, w_q, b_q) * math.sqrt(head_dim / embed),")]
