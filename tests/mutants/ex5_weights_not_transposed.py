"""Projections as x @ W instead of nn.Linear's x @ W.T."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_multi_head_attention_matches_nn_multiheadattention"]
REPLACE = [("return F.linear(x, w, b).view(", "return F.linear(x, w.T, b).view(")]
