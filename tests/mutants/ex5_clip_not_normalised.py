"""Dot products of the raw embeddings: no L2 normalisation."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_clip_loss_equals_clip_model"]
REPLACE = [("logits = logit_scale.exp() * image_n @ text_n.T", "logits = logit_scale.exp() * image_embeds @ text_embeds.T")]
