"""练习 4：OpenAI CLIP —— 本地文件夹、零样本分类、张量形状、注意力图。

检查在一个小型 CLIP 上运行（`fixtures/ex4/tiny-clip`，文件布局与 clip-vit-base-patch32 相同，
在彩色图形上训练）；把环境变量 `DLGRADE_CLIP_PATH` 指向真实的 openai/clip-vit-base-patch32
文件夹时，也会在真实模型上检查。

运行检查：`pytest checks/test_ex4.py`（加 `--lang zh` 显示中文提示）。

English:
Exercise 4: OpenAI CLIP — a local folder, zero-shot classification, shapes, attention maps.

The checks run on a tiny CLIP with clip-vit-base-patch32's file layout (`fixtures/ex4/tiny-clip`,
trained on coloured shapes), and on the real openai/clip-vit-base-patch32 when you point
`DLGRADE_CLIP_PATH` at its folder.

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
# 先选好不弹出窗口的后端（Agg），再导入 pyplot。
# Choose the non-interactive backend (Agg) before importing pyplot.
import matplotlib.pyplot as plt

REPO_ID = "openai/clip-vit-base-patch32"
PROMPT_TEMPLATE = "a photo of a {}."


def files_to_download(repo_files: list[str]) -> list[str]:
    """从 Hub 仓库的文件列表中挑出 PyTorch 模型需要的文件。

    保留一份 PyTorch 权重，以及配置和分词器文件（`*.json`、`*.txt`）；去掉 Flax（`*.msgpack`）
    和 TensorFlow（`*.h5`）权重以及其他文件（`README.md`、`.gitattributes`）。PyTorch 权重是
    `pytorch_model.bin`；仓库里可能还有 `model.safetensors`，是同一份权重的另一种格式：两者只保留
    一个，不要都要（参考答案按课程要求保留 `pytorch_model.bin`）。按给定的顺序返回保留的文件名
    （一个 `list`）。

    English:
    Pick, from a hub repository's file list, what the PyTorch model needs.

    Keep exactly one copy of the PyTorch weights and the configuration and tokenizer files
    (`*.json`, `*.txt`); leave out the Flax (`*.msgpack`) and TensorFlow (`*.h5`) weights and
    the rest (`README.md`, `.gitattributes`). The PyTorch weights are `pytorch_model.bin`; a
    repository may also hold `model.safetensors`, the same weights in another format: keep one
    of the two, never both (the reference keeps `pytorch_model.bin`, as the curriculum says).
    Return the kept names in the order given (a `list`).
    """
    # BEGIN SOLUTION
    return [name for name in repo_files if name == "pytorch_model.bin" or name.endswith((".json", ".txt"))]
    # END SOLUTION


def download_clip(local_dir: str | Path, *, repo_id: str = REPO_ID, endpoint: str | None = None) -> Path:
    """把 files_to_download() 从 `repo_id` 挑出的文件下载到 `local_dir`，并返回 `local_dir`。

    用 `huggingface_hub.HfApi(endpoint=endpoint).list_repo_files(repo_id)` 取得仓库的文件列表
    （别的方法也行；模块级的 `list_repo_files` 不接受 endpoint），再用
    `snapshot_download(repo_id, local_dir=..., allow_patterns=<the picked names>, endpoint=endpoint)`
    下载。`endpoint` 为 `None` 表示真实的 Hub；检查会给一个本地的 Hub 并且离线运行，所以每次调用
    都必须发往 `endpoint`。

    English:
    Download the files files_to_download() picks from `repo_id` into `local_dir`; return it.

    Get the repository's file list with `huggingface_hub.HfApi(endpoint=endpoint).list_repo_files(repo_id)`
    — or any other way; the module-level `list_repo_files` takes no endpoint — and download
    with `snapshot_download(repo_id, local_dir=..., allow_patterns=<the picked names>, endpoint=endpoint)`.
    `endpoint` `None` means the real Hub; the checks give a local one and run offline, so
    every call must go to `endpoint`.
    """
    # BEGIN SOLUTION
    from huggingface_hub import HfApi

    names = files_to_download(HfApi(endpoint=endpoint).list_repo_files(repo_id))
    return Path(snapshot_download(repo_id, local_dir=str(local_dir), allow_patterns=names, endpoint=endpoint))
    # END SOLUTION


def read_configs(folder: str | Path) -> dict:
    """从 CLIP 文件夹的 JSON 文件中读出值得了解的设置。

    返回一个 `dict`：
        `"projection_dim"`、`"logit_scale_init_value"`（来自 `config.json`）；
        `"vision"`：`{"image_size", "patch_size", "hidden_size", "num_hidden_layers", "num_attention_heads"}`
            （`config.json` 的 `vision_config`）；
        `"text"`：`{"vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers"}`
            （`config.json` 的 `text_config`）；
        `"image_mean"`、`"image_std"`、`"crop_size"`（来自 `preprocessor_config.json`，原样读出）。
    文件里没有的字段（包括整个 `vision_config` 或 `text_config` 都没有的情况）取 transformers 为 CLIP
    设的默认值：vision 的 image_size 224、patch_size 32、hidden_size 768、12 层、12 个头；text 的
    vocab_size 49408、max_position_embeddings 77、hidden_size 512、12 层；projection_dim 512，
    logit_scale_init_value 2.6592。

    English:
    The settings of a CLIP folder worth knowing, read from its JSON files.

    Returns a `dict`:
        `"projection_dim"`, `"logit_scale_init_value"` (from `config.json`);
        `"vision"`: `{"image_size", "patch_size", "hidden_size", "num_hidden_layers", "num_attention_heads"}`
            (`config.json`'s `vision_config`);
        `"text"`: `{"vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers"}`
            (`config.json`'s `text_config`);
        `"image_mean"`, `"image_std"`, `"crop_size"` (from `preprocessor_config.json`, as they are).
    A field the file leaves out (a whole `vision_config` or `text_config` too) takes the
    transformers default for CLIP: vision image_size 224, patch_size 32, hidden_size 768, 12
    layers, 12 heads; text vocab_size 49408, max_position_embeddings 77, hidden_size 512, 12
    layers; projection_dim 512, logit_scale_init_value 2.6592.
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
    """从本地文件夹加载 `CLIPModel` 和 `CLIPProcessor`，并让模型能返回注意力图。

    默认的注意力实现（sdpa）下，`output_attentions=True` 拿不到注意力图（只在日志里警告一句）：
    加载模型时要用 `attn_implementation="eager"`。把模型设为 eval 模式。返回 `(model, processor)`。

    English:
    Load `CLIPModel` and `CLIPProcessor` from a local folder, ready to return attention maps.

    With the default attention implementation (sdpa), `output_attentions=True` gives no
    attention maps (only a log warning): load the model with `attn_implementation="eager"`.
    Put the model in eval mode. Return `(model, processor)`.
    """
    # BEGIN SOLUTION
    model = CLIPModel.from_pretrained(folder, attn_implementation="eager").eval()
    return model, CLIPProcessor.from_pretrained(folder)
    # END SOLUTION


def zero_shot_classify(model: CLIPModel, processor: CLIPProcessor, image: Image.Image, labels: list[str],
                       template: str = PROMPT_TEMPLATE) -> dict[str, float]:
    """不训练分类器，只靠提示词和相似度，把 `image` 分到 `labels` 中的某一类。

    用 `template` 为每个标签造一个提示词（`"a photo of a {}."` -> `"a photo of a red circle."`），
    把图片和提示词一起送进模型，返回 `{label: probability}`：`logits_per_image` 在各标签上的
    softmax，按 `labels` 的顺序排列；每个概率是 Python 的 `float`（不是 0 维张量），总和为 1。

    English:
    Classify `image` among `labels` with no trained classifier: prompts and similarity only.

    Make one prompt per label with `template` (`"a photo of a {}."` -> `"a photo of a red circle."`),
    run image and prompts through the model together, and return `{label: probability}`:
    the softmax of `logits_per_image` over the labels, in the order of `labels`; each
    probability a Python `float` (not a 0-d tensor), together summing to 1.
    """
    # BEGIN SOLUTION
    inputs = processor(text=[template.format(label) for label in labels], images=image, return_tensors="pt",
                       padding=True)
    with torch.no_grad():
        probabilities = model(**inputs).logits_per_image.softmax(dim=-1)[0]
    return {label: float(p) for label, p in zip(labels, probabilities)}
    # END SOLUTION


def tensor_shapes(model: CLIPModel, processor: CLIPProcessor, image: Image.Image, texts: list[str]) -> dict:
    """一次前向计算（一张图片加若干文本）中每个输入、输出张量的形状。

    文本要补齐到同一长度：`padding=True`（补到最长的文本）或 `padding="max_length"`；之后
    input_ids、attention_mask 和 text_last_hidden_state 的长度都相同。返回 `{name: tuple of ints}`，
    包括输入 `"pixel_values"`、`"input_ids"`、`"attention_mask"`，以及输出 `"logits_per_image"`、
    `"logits_per_text"`、`"text_embeds"`、`"image_embeds"`、`"vision_last_hidden_state"`、
    `"vision_pooler_output"`、`"text_last_hidden_state"`、`"text_pooler_output"`（最后四个来自输出的
    `vision_model_output` / `text_model_output`；transformers 5 中 `CLIPModel` 的 forward 会把它们的
    pooler_output 换成投影之后的结果，所以这两个有 projection_dim 列）。

    English:
    The shape of every tensor going in and out of one forward pass (image with texts).

    The texts are padded to a common length: `padding=True` (to the longest text) or
    `padding="max_length"`; input_ids, attention_mask and text_last_hidden_state then all have
    that length. Returns `{name: tuple of ints}` for the inputs `"pixel_values"`, `"input_ids"`,
    `"attention_mask"` and the outputs `"logits_per_image"`, `"logits_per_text"`, `"text_embeds"`,
    `"image_embeds"`, `"vision_last_hidden_state"`, `"vision_pooler_output"`,
    `"text_last_hidden_state"`, `"text_pooler_output"` (the last four from the output's
    `vision_model_output` / `text_model_output`; in transformers 5 `CLIPModel`'s forward replaces
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
    """一张图片在视觉 ViT 中的隐藏状态和注意力图。

    返回 `(hidden_states, attentions)`，取自
    `model.vision_model(..., output_hidden_states=True, output_attentions=True)`。
    两者都是张量的 tuple（或 list），每层一个张量，不要 `torch.stack` 成一个大张量：hidden_states 有
    num_hidden_layers + 1 个形状为 `(1, tokens, hidden_size)` 的张量（先是嵌入层的输出，再是每一层），
    其中 tokens = (image_size / patch_size)^2 + 1（CLS token 在最前面）；attentions 有
    num_hidden_layers 个形状为 `(1, heads, tokens, tokens)` 的张量。如果模型没有返回注意力图（它是用
    sdpa 注意力加载的），抛出 `ValueError`，并在异常信息里告诉调用者改用
    `attn_implementation="eager"` 加载（信息中要出现 `eager`）。

    English:
    The vision ViT's hidden states and attention maps for one image.

    Returns `(hidden_states, attentions)` from
    `model.vision_model(..., output_hidden_states=True, output_attentions=True)`.
    Both are tuples (or lists) of tensors, one tensor per layer, never `torch.stack`ed into
    one tensor: hidden_states has num_hidden_layers + 1 tensors (the embeddings, then each
    layer) of shape `(1, tokens, hidden_size)`, where tokens = (image_size / patch_size)^2 + 1
    (the CLS token first); attentions has num_hidden_layers tensors of shape
    `(1, heads, tokens, tokens)`. If the model returns no attention maps (it was loaded with
    sdpa attention), raise `ValueError` whose message tells the caller to load it with
    `attn_implementation="eager"` (the word `eager` in it).
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
    """画出某一层某个注意力头的注意力图，并把图保存为 PNG。

    `attentions` 就是 vision_internals() 返回的那个。取 `attentions[layer][0, head]`：形状为
    `(tokens, tokens)` 的注意力图。在一个子图里画它，在另一个子图里画 CLS token 那一行去掉它自己那一列、
    再 reshape 成 patch 网格的结果（`(grid, grid)`，grid = sqrt(tokens - 1)）：也就是 CLS token 在图片里
    看向哪里。每张图都画成数值图像（`imshow`、`matshow` 或 `pcolormesh`）；为了显示而缩放（除以最大值，
    或拉伸到 0..1）也可以。保存到 `out_path`。

    返回 `(figure, cls_map, full_map)`：cls_map 形状为 `(grid, grid)`，full_map 形状为 `(tokens, tokens)`。

    English:
    Plot one head's attention map of one layer and save the figure as a PNG.

    `attentions` as vision_internals() returns them. Take `attentions[layer][0, head]`: the
    `(tokens, tokens)` map. Draw it in one subplot, and in another the CLS token's row without
    its own column, reshaped to the patch grid (`(grid, grid)`, grid = sqrt(tokens - 1)): where
    the CLS token looks in the image. Draw each map as an image of its values (`imshow`,
    `matshow` or `pcolormesh`); a map rescaled for display (divided by its maximum, or stretched
    to 0..1) is fine. Save to `out_path`.

    Returns `(figure, cls_map, full_map)`: cls_map of shape `(grid, grid)`, full_map of shape
    `(tokens, tokens)`.
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
