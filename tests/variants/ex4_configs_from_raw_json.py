"""Correct, differently: read_configs reads the raw JSON and fills in the docstring's defaults itself."""
TARGET = "ex4_clip.py"
PASSES = ["checks/test_ex4.py::test_read_configs", "checks/test_ex4.py::test_read_configs_fills_in_defaults"]

CLIP_DEFAULTS = {"vision_config": dict(image_size=224, patch_size=32, hidden_size=768, num_hidden_layers=12,
                                      num_attention_heads=12),
                 "text_config": dict(vocab_size=49408, max_position_embeddings=77, hidden_size=512,
                                     num_hidden_layers=12)}


def read_configs(folder):
    folder = Path(folder)
    with open(folder / "config.json") as f:
        config = json.load(f)
    with open(folder / "preprocessor_config.json") as f:
        preprocessor = json.load(f)
    result = {"projection_dim": config.get("projection_dim", 512),
              "logit_scale_init_value": config.get("logit_scale_init_value", 2.6592)}
    for short, section in (("vision", "vision_config"), ("text", "text_config")):
        result[short] = {**CLIP_DEFAULTS[section],
                         **{k: v for k, v in config.get(section, {}).items() if k in CLIP_DEFAULTS[section]}}
    for key in ("image_mean", "image_std", "crop_size"):
        result[key] = preprocessor[key]
    return result
