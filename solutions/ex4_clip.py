"""Exercise 4: OpenAI CLIP — a local folder, zero-shot classification, shapes, attention maps.

The checks run on a tiny CLIP with clip-vit-base-patch32's file layout (fixtures/ex4/tiny-clip,
trained on coloured shapes), and on the real openai/clip-vit-base-patch32 when you point
DLGRADE_CLIP_PATH at its folder.

Run the checks: `pytest checks/test_ex4.py` (add `--lang zh` for Chinese hints).
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import torch
from huggingface_hub import snapshot_download
from PIL import Image
from transformers import CLIPModel, CLIPProcessor

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the non-interactive backend

REPO_ID = "openai/clip-vit-base-patch32"
PROMPT_TEMPLATE = "a photo of a {}."


def files_to_download(repo_files: list[str]) -> list[str]:
    """Pick, from a hub repository's file list, what the PyTorch model needs.

    Keep exactly one copy of the PyTorch weights and the configuration and tokenizer files
    (*.json, *.txt); leave out the Flax (*.msgpack) and TensorFlow (*.h5) weights and the
    rest (README.md, .gitattributes). The PyTorch weights are pytorch_model.bin; a repository
    may also hold model.safetensors, the same weights in another format: keep one of the two,
    never both (the reference keeps pytorch_model.bin, as the curriculum says). Return the
    kept names in the order given.
    """
    # BEGIN SOLUTION
    return [name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt"))]
    # END SOLUTION


def download_clip(local_dir: str | Path, *, repo_id: str = REPO_ID, endpoint: str | None = None) -> Path:
    """Download the files files_to_download() picks from `repo_id` into `local_dir`; return it.

    Get the repository's file list with `huggingface_hub.HfApi(endpoint=endpoint)
    .list_repo_files(repo_id)` — or any other way; the module-level `list_repo_files` takes no
    endpoint — and download with `snapshot_download(repo_id, local_dir=..., allow_patterns=<the
    picked names>, endpoint=endpoint)`. `endpoint` None means the real Hub; the checks give a
    local one and run offline, so every call must go to `endpoint`.
    """
    # BEGIN SOLUTION
    from huggingface_hub import HfApi

    names = files_to_download(HfApi(endpoint=endpoint).list_repo_files(repo_id))
    return Path(snapshot_download(repo_id, local_dir=str(local_dir), allow_patterns=names, endpoint=endpoint))
    # END SOLUTION


def read_configs(folder: str | Path) -> dict:
    """The settings of a CLIP folder worth knowing, read from its JSON files.

    Returns {"projection_dim", "logit_scale_init_value" (from config.json),
             "vision": {"image_size", "patch_size", "hidden_size", "num_hidden_layers",
                        "num_attention_heads"} (config.json's vision_config),
             "text": {"vocab_size", "max_position_embeddings", "hidden_size",
                      "num_hidden_layers"} (config.json's text_config),
             "image_mean", "image_std", "crop_size" (preprocessor_config.json)}.
    A field the file leaves out takes the transformers default for CLIP: vision image_size
    224, patch_size 32, hidden_size 768, 12 layers, 12 heads; text vocab_size 49408,
    max_position_embeddings 77, hidden_size 512, 12 layers; projection_dim 512,
    logit_scale_init_value 2.6592.
    """
    # BEGIN SOLUTION
    from transformers import CLIPConfig

    folder = Path(folder)
    config = CLIPConfig.from_pretrained(folder)
    preprocessor = json.loads((folder / "preprocessor_config.json").read_text())
    vision, text = config.vision_config, config.text_config
    return {
        "projection_dim": config.projection_dim,
        "logit_scale_init_value": config.logit_scale_init_value,
        "vision": {key: getattr(vision, key) for key in
                   ("image_size", "patch_size", "hidden_size", "num_hidden_layers", "num_attention_heads")},
        "text": {key: getattr(text, key) for key in
                 ("vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers")},
        "image_mean": preprocessor["image_mean"],
        "image_std": preprocessor["image_std"],
        "crop_size": preprocessor["crop_size"],
    }
    # END SOLUTION


def load_clip(folder: str | Path) -> tuple[CLIPModel, CLIPProcessor]:
    """Load CLIPModel and CLIPProcessor from a local folder, ready to return attention maps.

    With the default attention implementation (sdpa), `output_attentions=True` gives no
    attention maps (only a log warning): load the model with attn_implementation="eager".
    Put the model in eval mode.
    """
    # BEGIN SOLUTION
    model = CLIPModel.from_pretrained(folder, attn_implementation="eager").eval()
    return model, CLIPProcessor.from_pretrained(folder)
    # END SOLUTION


def zero_shot_classify(model: CLIPModel, processor: CLIPProcessor, image: Image.Image, labels: list[str],
                       template: str = PROMPT_TEMPLATE) -> dict[str, float]:
    """Classify `image` among `labels` with no trained classifier: prompts and similarity only.

    Make one prompt per label with `template` ("a photo of a {}." -> "a photo of a red
    circle."), run image and prompts through the model together, and return
    {label: probability}: the softmax of logits_per_image over the labels, as floats that
    sum to 1.
    """
    # BEGIN SOLUTION
    inputs = processor(text=[template.format(label) for label in labels], images=image, return_tensors="pt",
                       padding=True)
    with torch.no_grad():
        probabilities = model(**inputs).logits_per_image.softmax(dim=-1)[0]
    return {label: float(p) for label, p in zip(labels, probabilities)}
    # END SOLUTION


def tensor_shapes(model: CLIPModel, processor: CLIPProcessor, image: Image.Image, texts: list[str]) -> dict:
    """The shape of every tensor going in and out of one forward pass (image with texts).

    The texts are padded to a common length: padding=True (to the longest text) or
    padding="max_length"; input_ids, attention_mask and text_last_hidden_state then all have
    that length. Returns {name: tuple of ints} for the inputs "pixel_values", "input_ids",
    "attention_mask" and the outputs "logits_per_image", "logits_per_text", "text_embeds",
    "image_embeds", "vision_last_hidden_state", "vision_pooler_output",
    "text_last_hidden_state", "text_pooler_output" (the last four from the output's
    vision_model_output / text_model_output; in transformers 5 CLIPModel's forward replaces
    their pooler_output with its projection, so those two have projection_dim columns).
    """
    # BEGIN SOLUTION
    inputs = processor(text=texts, images=image, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model(**inputs)
    tensors = {
        "pixel_values": inputs["pixel_values"], "input_ids": inputs["input_ids"],
        "attention_mask": inputs["attention_mask"], "logits_per_image": out.logits_per_image,
        "logits_per_text": out.logits_per_text, "text_embeds": out.text_embeds, "image_embeds": out.image_embeds,
        "vision_last_hidden_state": out.vision_model_output.last_hidden_state,
        "vision_pooler_output": out.vision_model_output.pooler_output,
        "text_last_hidden_state": out.text_model_output.last_hidden_state,
        "text_pooler_output": out.text_model_output.pooler_output,
    }
    return {name: tuple(tensor.shape) for name, tensor in tensors.items()}
    # END SOLUTION


def vision_internals(model: CLIPModel, processor: CLIPProcessor,
                     image: Image.Image) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...]]:
    """The vision ViT's hidden states and attention maps for one image.

    Returns (hidden_states, attentions) from model.vision_model(..., output_hidden_states=True,
    output_attentions=True): hidden_states has num_hidden_layers + 1 tensors (the
    embeddings, then each layer) of shape (1, tokens, hidden_size), where tokens =
    (image_size / patch_size)^2 + 1 (the CLS token first); attentions has num_hidden_layers
    tensors of shape (1, heads, tokens, tokens). Raise ValueError if the model returns no
    attention maps (it was loaded with sdpa attention).
    """
    # BEGIN SOLUTION
    pixels = processor(images=image, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        out = model.vision_model(pixel_values=pixels, output_hidden_states=True, output_attentions=True)
    if not out.attentions:
        raise ValueError('no attention maps: load the model with attn_implementation="eager"')
    return out.hidden_states, out.attentions
    # END SOLUTION


def plot_attention(attentions: tuple[torch.Tensor, ...], out_path: str | Path, *, layer: int = -2,
                   head: int = 0) -> tuple[plt.Figure, torch.Tensor, torch.Tensor]:
    """Plot one head's attention map of one layer and save the figure as a PNG.

    `attentions` as vision_internals() returns them. Take attentions[layer][0, head]: the
    (tokens, tokens) map. Draw it in one subplot, and in another the CLS token's row without
    its own column, reshaped to the patch grid (grid x grid, grid = sqrt(tokens - 1)): where
    the CLS token looks in the image. Draw each map as an image of its values (imshow,
    matshow or pcolormesh); a map rescaled for display (divided by its maximum, or stretched
    to 0..1) is fine. Save to `out_path`.

    Returns (figure, cls_map of shape (grid, grid), full_map of shape (tokens, tokens)).
    """
    # BEGIN SOLUTION
    full_map = attentions[layer][0, head].detach().float()
    grid = int(round((full_map.shape[-1] - 1) ** 0.5))
    cls_map = full_map[0, 1:].reshape(grid, grid)
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 4))
    left.imshow(cls_map.numpy(), cmap="viridis")
    left.set_title(f"CLS -> patches, layer {layer}, head {head}")
    right.imshow(full_map.numpy(), cmap="viridis")
    right.set_title("all tokens (row attends to column)")
    figure.tight_layout()
    figure.savefig(out_path)
    return figure, cls_map, full_map
    # END SOLUTION
