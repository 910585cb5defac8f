"""Drops the embedding output from the hidden states (one per layer only)."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_vision_hidden_states_and_attentions"]
REPLACE = [("return out.hidden_states, out.attentions", "return out.hidden_states[1:], out.attentions")]
