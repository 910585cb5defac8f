"""LoRA's scaling as an integer division, alpha // r: 1 instead of 1.5 for alpha 6, r 4."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_lora_matches_peft_before_and_after_merge"]
SAYS = ["alpha // r"]
REPLACE = [("self.scaling = alpha / r\n        # END SOLUTION", "self.scaling = alpha // r\n        # END SOLUTION")]
