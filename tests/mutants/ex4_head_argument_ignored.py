"""Always plots head 0, whatever the head argument says."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_plot_attention_map[layer-1-head2]"]
SAYS = ["layer=-1, head=2"]
REPLACE = [("full_map = attentions[layer][0, head].detach().float()", "full_map = attentions[layer][0, 0].detach().float()")]
