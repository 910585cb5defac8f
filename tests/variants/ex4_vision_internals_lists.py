"""Correct, differently: hidden states and attention maps as lists of tensors; the
sdpa error in the learner's own words (naming eager)."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_vision_hidden_states_and_attentions",
          "checks/test_ex4.py::test_sdpa_model_gives_a_clear_error",
          "checks/test_ex4.py::test_plot_attention_map"]
REPLACE = [("""    if not out.attentions:
        raise ValueError('no attention maps: load the model with attn_implementation="eager"')
    return out.hidden_states, out.attentions""", """    if len(out.attentions or ()) == 0:
        raise ValueError("sdpa 不返回注意力图；请用 eager 注意力加载")
    return [h for h in out.hidden_states], [a for a in out.attentions]""")]
