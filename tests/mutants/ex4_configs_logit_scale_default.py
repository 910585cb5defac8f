"""Takes exp(logit_scale_init_value) = 1/0.07 as the default: the default the docstring lists is the log."""
TARGET = "ex4_clip.py"
CATCHES = ["checks/test_ex4.py::test_read_configs_fills_in_defaults[bare]"]
SAYS = ["'logit_scale_init_value'"]

_read_configs = read_configs


def read_configs(folder):
    result = _read_configs(folder)
    if "logit_scale_init_value" not in json.loads((Path(folder) / "config.json").read_text()):
        result["logit_scale_init_value"] = 1 / 0.07
    return result
