"""merge() adds B @ A without the alpha / r scaling."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_lora_matches_peft_before_and_after_merge"]
REPLACE = [("merged.weight.copy_(self.base.weight + self.scaling * self.lora_B @ self.lora_A)",
            "merged.weight.copy_(self.base.weight + self.lora_B @ self.lora_A)")]
