"""Only the image-to-text cross-entropy: the loss is not symmetric."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_clip_loss_equals_clip_model"]
REPLACE = [("return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2",
            "return F.cross_entropy(logits, labels)")]
