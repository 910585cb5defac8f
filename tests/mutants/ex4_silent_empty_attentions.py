"""Returns the empty attention tuple of an sdpa model instead of raising."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_sdpa_model_gives_a_clear_error"]
REPLACE = [('''    if not out.attentions:
        raise ValueError('no attention maps: load the model with attn_implementation="eager"')
''', "")]
