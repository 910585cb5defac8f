"""Heads split with view(batch, heads, seq, d_head): features of different positions mix."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_multi_head_attention_matches_nn_multiheadattention"]
REPLACE = [("return F.linear(x, w, b).view(batch, x.shape[1], num_heads, head_dim).transpose(1, 2)",
            "return F.linear(x, w, b).view(batch, num_heads, x.shape[1], head_dim)")]
