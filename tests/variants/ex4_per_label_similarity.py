"""Correct, differently: embeddings by hand (get_*_features), cosine similarity x logit_scale, softmax."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_zero_shot_probabilities_equal_clip",
          "checks/test_ex4.py::test_zero_shot_accuracy_on_held_out_images"]


def zero_shot_classify(model, processor, image, labels, template=PROMPT_TEMPLATE):
    text = processor.tokenizer([template.format(label) for label in labels], padding=True, return_tensors="pt")
    pixels = processor.image_processor(image, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        # transformers 5: get_*_features return an output object; the projected embedding is its pooler_output
        image_embeds = model.get_image_features(pixel_values=pixels).pooler_output
        text_embeds = model.get_text_features(**text).pooler_output
    image_embeds = image_embeds / image_embeds.norm(dim=-1, keepdim=True)
    text_embeds = text_embeds / text_embeds.norm(dim=-1, keepdim=True)
    logits = model.logit_scale.exp() * image_embeds @ text_embeds.T
    return dict(zip(labels, logits.softmax(dim=-1)[0].tolist()))
