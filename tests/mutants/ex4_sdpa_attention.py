"""Loads with the default (sdpa) attention: output_attentions=True then returns no maps."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_load_clip_keeps_attention_maps"]
REPLACE = [('model = CLIPModel.from_pretrained(folder, attn_implementation="eager").eval()',
            "model = CLIPModel.from_pretrained(folder).eval()")]
