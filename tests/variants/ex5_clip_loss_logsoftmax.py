"""Correct, differently: F.normalize and log_softmax over both axes of one logits matrix."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_clip_loss_equals_clip_model", "checks/test_ex5.py::test_clip_loss_gradients_equal_clip_models"]


def clip_loss(image_embeds, text_embeds, logit_scale):
    logits = torch.einsum("id,td->it", F.normalize(image_embeds, dim=-1), F.normalize(text_embeds, dim=-1))
    logits = logits * logit_scale.exp()
    diagonal = torch.eye(len(logits), dtype=torch.bool)
    image_to_text = -logits.log_softmax(dim=1)[diagonal].mean()
    text_to_image = -logits.log_softmax(dim=0)[diagonal].mean()
    return 0.5 * (image_to_text + text_to_image)
