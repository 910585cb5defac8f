"""A zero and B random: B A = 0 at the start too, but not the paper's (and peft's) initialisation."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_lora_starts_as_the_base_layer_and_trains_only_a_and_b"]
REPLACE = [("        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))\n"
            "        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))\n",
            "        nn.init.zeros_(self.lora_A)\n"
            "        self.lora_B = nn.Parameter(torch.randn(base.out_features, r))\n")]
