"""Instructor-only checks of exercise 4: `dlgrade grade --hidden hidden_checks` mounts them; never shipped.

The visible checks (checks/test_ex4.py) ship to learners, so they compare with results stored for
the shipped fixtures and never compute what the exercise computes. These checks may: the oracle
is transformers' own CLIP (CLIPModel with eager attention, CLIPConfig), run on cases a learner has
not seen (other eval images, labels and templates on the tiny CLIP) and on a learner's real
clip-vit-base-patch32 when DLGRADE_CLIP_PATH names its folder (skipped otherwise).

The learner's functions run in the learner process (dlgrade/boundary), on models and processors
built there from recipes; the oracle's model is this process's own and never reaches learner code.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image
from transformers import CLIPConfig, CLIPModel, CLIPProcessor

from dlgrade.boundary.proxy import LearnerModule
from dlgrade.boundary.recipes import Recipe
from dlgrade.checkkit import fakehub
from dlgrade.checkkit.feedback import expect, expect_type, prose
from dlgrade.checkkit.real_models import real_folder
from dlgrade.checkkit.targets import Target
from dlgrade.core.i18n import N_, tr
from dlgrade.core.project import Project

FIXTURES_DIR = Project.locate().fixtures
FILE = "ex4_clip.py"
TINY = FIXTURES_DIR / "ex4" / "tiny-clip"
EVAL = FIXTURES_DIR / "ex4" / "eval"
REAL_ENV = "DLGRADE_CLIP_PATH"
# The same tolerances as the visible checks (checks/test_ex4.py; docs/measurements/ex4.md).
PROBABILITY_ATOL = 1e-5
INTERNALS_ATOL = 1e-5
# Cases no visible check uses: other images, label sets (unsorted, a label twice the length of the
# others) and templates, the default template among them.
HIDDEN_CASES = [
    ("040.png", ["orange circle", "green triangle", "orange square", "red circle"], "an image of a {}."),
    ("077.png", ["purple square", "purple circle", "purple triangle"], None),
    ("101.png", ["yellow triangle", "blue square", "yellow circle", "green square", "red triangle"], "a {}."),
]
REAL_LABELS = ["cat", "dog", "red circle", "diagram"]

pytestmark = pytest.mark.time_limit(120)


@pytest.fixture(scope="module")
def ex4(target: Target) -> LearnerModule:
    return target.learner_module(FILE).load()


@pytest.fixture(autouse=True)
def offline(ex4: LearnerModule, target: Target) -> Iterator[None]:
    fakehub.learner_offline(target)
    target.recipe("torch_threads", 1)
    with fakehub.offline():
        yield


def learner_clip(folder: Path) -> tuple[Recipe, Recipe]:
    """CLIPModel (eager attention, eval mode) and CLIPProcessor of `folder`, built in the learner process."""
    return (Recipe("from_pretrained", "transformers.CLIPModel", folder, attn_implementation="eager"),
            Recipe("from_pretrained", "transformers.CLIPProcessor", folder))


def load_eager(folder):
    """The oracle's CLIP, in this process."""
    return (CLIPModel.from_pretrained(folder, attn_implementation="eager").eval(),
            CLIPProcessor.from_pretrained(folder))


@pytest.fixture(scope="session")
def tiny():
    torch.set_num_threads(1)
    return load_eager(TINY)


@pytest.fixture(scope="session")
def real():
    folder = real_folder(REAL_ENV, "clip-vit-base-patch32")
    return folder, *load_eager(folder)


def photo() -> Image.Image:
    return Image.open(EVAL / "000.png").convert("RGB").resize((320, 240))


def clip_probabilities(model, processor, image, labels, template):
    inputs = processor(text=[template.format(label) for label in labels], images=image, return_tensors="pt",
                       padding=True)
    with torch.no_grad():
        return [float(p) for p in model(**inputs).logits_per_image.softmax(dim=-1)[0]]


def expect_probabilities(got, labels, wanted, what: str) -> None:
    expect(isinstance(got, dict) and list(got) == labels,
           tr("zero_shot_classify() returns a dict: label -> probability"),
           expected=prose(tr("a dict keyed by the {count} labels, in their order", count=len(labels))),
           got=list(got) if isinstance(got, dict) else prose(repr(got)),
           hint=tr("one entry per label, in the order given"))
    not_floats = sorted({type(value).__name__ for value in got.values() if not isinstance(value, float)})
    expect(not not_floats, tr("{call}: the probabilities must be Python floats", call=what),
           expected=prose("float"), got=prose(", ".join(not_floats)),
           hint=tr("float(p) for each probability (or p.item()): a 0-d tensor is not a float"))
    worst = max(range(len(labels)), key=lambda i: abs(got[labels[i]] - wanted[i]))
    expect(abs(got[labels[worst]] - wanted[worst]) <= PROBABILITY_ATOL,
           tr("{call}: the probability of {label} differs from softmax(logits_per_image) (the largest difference "
              "of the {count} labels)", call=what, label=repr(labels[worst]), count=len(labels)),
           expected=round(wanted[worst], 6), got=round(got[labels[worst]], 6))


@pytest.mark.item("ex4.2")
@pytest.mark.hint(N_("format every label with the template, run image and prompts through the model together, "
                     "softmax of logits_per_image over the labels (dim=-1), each probability as a Python float"))
@pytest.mark.parametrize("image,labels,template", HIDDEN_CASES, ids=[case[0] for case in HIDDEN_CASES])
def test_zero_shot_hidden_cases(ex4, tiny, image, labels, template):
    model, processor = tiny
    picture = Image.open(EVAL / image).convert("RGB")
    options = {} if template is None else {"template": template}
    got = ex4.zero_shot_classify(*learner_clip(TINY), picture, list(labels), **options)
    wanted = clip_probabilities(model, processor, picture, labels, template or "a photo of a {}.")
    expect_probabilities(got, labels, wanted, f"zero_shot_classify(<{image}>, {labels!r}, {template!r})")


@pytest.mark.item("ex4.2")
@pytest.mark.hint(N_("format every label with the template, run image and prompts through the model together, "
                     "softmax of logits_per_image over the labels (dim=-1), each probability as a Python float"))
def test_zero_shot_real_model(ex4, real):
    folder, model, processor = real
    got = ex4.zero_shot_classify(*learner_clip(folder), photo(), list(REAL_LABELS))
    wanted = clip_probabilities(model, processor, photo(), REAL_LABELS, "a photo of a {}.")
    expect_probabilities(got, REAL_LABELS, wanted, "zero_shot_classify(<photo>, clip-vit-base-patch32)")


@pytest.mark.item("ex4.1")
@pytest.mark.hint(N_("json.load config.json (vision_config, text_config) and preprocessor_config.json, or "
                     "CLIPConfig.from_pretrained(folder)"))
def test_read_configs_real_model(ex4, real):
    folder = real[0]
    config = CLIPConfig.from_pretrained(folder)
    processor = json.loads((folder / "preprocessor_config.json").read_text())
    wanted = {"projection_dim": config.projection_dim, "logit_scale_init_value": config.logit_scale_init_value,
              "vision": {name: getattr(config.vision_config, name) for name in
                         ("image_size", "patch_size", "hidden_size", "num_hidden_layers", "num_attention_heads")},
              "text": {name: getattr(config.text_config, name) for name in
                       ("vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers")}}
    wanted |= {name: processor[name] for name in ("image_mean", "image_std", "crop_size")}
    got = ex4.read_configs(folder)
    expect_type(got, dict, tr("{function}()'s return value", function="read_configs"))
    plain = lambda v: json.loads(json.dumps(v))  # noqa: E731 - tuples compare as lists
    for key, value in wanted.items():
        expect(key in got and plain(got[key]) == plain(value),
               tr("read_configs() of {folder}: [{key}]", folder=REAL_ENV, key=repr(key)),
               expected=value, got=got.get(key, prose(tr("(missing)"))))


@pytest.mark.item("ex4.3")
@pytest.mark.hint(N_("model.vision_model(pixel_values=..., output_hidden_states=True, output_attentions=True) "
                     "on the processor's pixel_values; return its hidden_states and attentions tuples as they are"))
def test_vision_internals_real_model(ex4, real):
    folder, model, processor = real
    hidden_states, attentions = ex4.vision_internals(*learner_clip(folder), photo())
    pixels = processor(images=photo(), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        truth = model.vision_model(pixel_values=pixels, output_hidden_states=True, output_attentions=True)
    for name, got, wanted in (("hidden_states", hidden_states, truth.hidden_states),
                              ("attentions", attentions, truth.attentions)):
        expect(isinstance(got, (tuple, list)) and len(got) == len(wanted),
               tr("vision_internals()'s {name} is a tuple of tensors, one per layer", name=name),
               got=prose(type(got).__name__))
        for i, (mine, theirs) in enumerate(zip(got, wanted)):
            same = tuple(mine.shape) == tuple(theirs.shape) and \
                torch.allclose(mine.float(), theirs, atol=INTERNALS_ATOL)
            expect(same,
                   tr("{name}[{index}] differs from the model's", name=name, index=i))


@pytest.mark.item("ex4.4")
@pytest.mark.hint(N_("full_map = attentions[layer][0, head]; cls_map = its row 0 without column 0, reshaped to "
                     "(grid, grid); draw both with imshow and figure.savefig(out_path)"))
def test_plot_attention_real_model(ex4, target, real, tmp_path):
    _folder, model, processor = real
    pixels = processor(images=photo(), return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        attentions = model.vision_model(pixel_values=pixels, output_attentions=True).attentions
    figure, cls_map, full_map = ex4.plot_attention(attentions, tmp_path / "attention.png", layer=-2, head=3)
    wanted_full = attentions[-2][0, 3]
    grid = model.config.vision_config.image_size // model.config.vision_config.patch_size
    expect(torch.allclose(torch.as_tensor(full_map).float(), wanted_full, atol=1e-6),
           tr("{call}: full_map should be attentions[{layer}][0, {head}]", call="plot_attention(..., layer=-2, head=3)",
              layer=-2, head=3))
    expect(torch.allclose(torch.as_tensor(cls_map).float(), wanted_full[0, 1:].reshape(grid, grid), atol=1e-6),
           tr("{call}: cls_map should be the CLS token's row without its own column, reshaped to the grid",
              call="plot_attention(..., layer=-2, head=3)"))
    target.recipe("close_figure", figure)
