"""Stacks the hidden states and the attention maps into one tensor each, where the docstring promises tuples."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_vision_hidden_states_and_attentions"]
SAYS = ["torch.stack"]
REPLACE = [("return out.hidden_states, out.attentions", "return torch.stack(out.hidden_states), torch.stack(out.attentions)")]
