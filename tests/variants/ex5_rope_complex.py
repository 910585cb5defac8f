"""Correct, differently: half-split pairs as complex numbers x[i] + j x[i + d/2], times e^(j m omega)."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding",
          "checks/test_ex5.py::test_rope_matches_at_the_paper_base",
          "checks/test_ex5.py::test_rope_scores_depend_only_on_relative_position", "checks/test_ex5.py::test_rope_keeps_dtype_and_computes_angles_in_float32"]


def apply_rope(x, positions, *, theta=10000.0):
    half = x.shape[-1] // 2
    inv_freq = 1.0 / theta ** (torch.arange(0, x.shape[-1], 2, dtype=torch.int64).float() / x.shape[-1])
    rotation = torch.polar(torch.ones(len(positions), half), positions.float()[:, None] * inv_freq)
    z = torch.complex(x[..., :half].float(), x[..., half:].float()) * rotation
    return torch.cat([z.real, z.imag], dim=-1).to(x.dtype)
