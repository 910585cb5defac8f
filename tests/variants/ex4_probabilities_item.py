"""Correct, differently: one forward pass per label (logits gathered, softmax at the end), probabilities by .item()."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_zero_shot_probabilities_equal_clip",
          "checks/test_ex4.py::test_zero_shot_accuracy_on_held_out_images"]


def zero_shot_classify(model, processor, image, labels, template=PROMPT_TEMPLATE):
    logits = []
    for label in labels:
        inputs = processor(text=[template.format(label)], images=image, return_tensors="pt")
        with torch.no_grad():
            logits.append(model(**inputs).logits_per_image[0, 0])
    probabilities = torch.stack(logits).softmax(dim=0)
    return {label: probabilities[i].item() for i, label in enumerate(labels)}
