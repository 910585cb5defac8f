"""Plots the last layer (-1) instead of the second-to-last."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_plot_attention_map[layer-2-head0]"]
REPLACE = [("full_map = attentions[layer][0, head].detach().float()", "full_map = attentions[-1][0, head].detach().float()")]
