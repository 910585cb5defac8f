"""Reports logits_per_text with the shape of logits_per_image."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_tensor_shapes"]
SAYS = ["logits_per_text is its transpose"]
REPLACE = [('"logits_per_text": out.logits_per_text,', '"logits_per_text": out.logits_per_image,')]
