"""merge() adds the update into the base layer and returns it: the LoRA layer now counts it twice."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_lora_matches_peft_before_and_after_merge"]


def _merge_in_place(self):
    with torch.no_grad():
        self.base.weight += self.scaling * self.lora_B @ self.lora_A
    return self.base


LoRALinear.merge = _merge_in_place
