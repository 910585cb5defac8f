"""LoRA update scaled by alpha instead of alpha / r."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_lora_matches_peft_before_and_after_merge"]
REPLACE = [("        self.scaling = alpha / r\n", "        self.scaling = alpha\n")]
