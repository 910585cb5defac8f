"""Reads the raw JSON with one default table for both towers (the vision tower's): the text tower's
hidden_size and max_position_embeddings defaults come out wrong."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_read_configs_fills_in_defaults[bare]",
           "checks/test_ex4.py::test_read_configs_fills_in_defaults[no-sections]"]
SAYS = ["'text'"]

TOWER_DEFAULTS = dict(image_size=224, patch_size=32, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                      vocab_size=49408, max_position_embeddings=224)


def read_configs(folder):
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    preprocessor = json.loads((folder / "preprocessor_config.json").read_text())
    fields = {"vision": ("image_size", "patch_size", "hidden_size", "num_hidden_layers", "num_attention_heads"),
              "text": ("vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers")}
    result = {"projection_dim": config.get("projection_dim", 512),
              "logit_scale_init_value": config.get("logit_scale_init_value", 2.6592)}
    for tower, names in fields.items():
        section = config.get(f"{tower}_config", {})
        result[tower] = {name: section.get(name, TOWER_DEFAULTS[name]) for name in names}
    return result | {key: preprocessor[key] for key in ("image_mean", "image_std", "crop_size")}
