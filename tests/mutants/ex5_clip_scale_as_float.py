"""math.exp(logit_scale.item()): right value, but no gradient reaches logit_scale."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_clip_loss_gradients_equal_clip_models"]
REPLACE = [("logits = logit_scale.exp() * image_n @ text_n.T", "logits = math.exp(logit_scale.item()) * image_n @ text_n.T")]
