"""Correct, differently: forward through a weight built on the fly; merge by deep copy of the base layer."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_lora_starts_as_the_base_layer_and_trains_only_a_and_b",
          "checks/test_ex5.py::test_lora_matches_peft_before_and_after_merge"]
import copy  # noqa: E402


class LoRALinear(nn.Module):
    def __init__(self, base, r, alpha):
        super().__init__()
        self.base = base.requires_grad_(False)
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / r)
        self.lora_B = nn.Parameter(base.weight.new_zeros(base.out_features, r))
        self.scaling = alpha / r

    def delta(self):
        return torch.einsum("or,ri->oi", self.lora_B, self.lora_A) * self.scaling

    def forward(self, x):
        return F.linear(x, self.base.weight + self.delta(), self.base.bias)

    def merge(self):
        merged = copy.deepcopy(self.base)
        with torch.no_grad():
            merged.weight += self.delta()
        return merged
