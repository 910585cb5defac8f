"""The base layer is not frozen: full fine-tuning plus the adapter."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_lora_starts_as_the_base_layer_and_trains_only_a_and_b"]
REPLACE = [("            parameter.requires_grad_(False)\n", "            parameter.requires_grad_(True)\n")]
