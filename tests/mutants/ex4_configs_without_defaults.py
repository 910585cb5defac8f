"""Reads config.json's raw fields without the CLIP defaults: a field the file leaves out raises KeyError."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_read_configs_fills_in_defaults"]


def read_configs(folder):
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    preprocessor = json.loads((folder / "preprocessor_config.json").read_text())
    vision, text = config["vision_config"], config["text_config"]
    return {
        "projection_dim": config["projection_dim"],
        "logit_scale_init_value": config["logit_scale_init_value"],
        "vision": {key: vision[key] for key in
                   ("image_size", "patch_size", "hidden_size", "num_hidden_layers", "num_attention_heads")},
        "text": {key: text[key] for key in
                 ("vocab_size", "max_position_embeddings", "hidden_size", "num_hidden_layers")},
        "image_mean": preprocessor["image_mean"],
        "image_std": preprocessor["image_std"],
        "crop_size": preprocessor["crop_size"],
    }
