"""Correct, differently, as transformers' Qwen2 does: angles in float32, then cos and sin cast to x's dtype and the
rotation computed in bfloat16 (rotate_half)."""
TARGET = "ex5_papers.py"
PASSES = ["checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding",
          "checks/test_ex5.py::test_rope_matches_at_the_paper_base",
          "checks/test_ex5.py::test_rope_scores_depend_only_on_relative_position",
          "checks/test_ex5.py::test_rope_keeps_dtype_and_computes_angles_in_float32"]


def apply_rope(x, positions, *, theta=10000.0):
    inv_freq = 1.0 / (theta ** (torch.arange(0, x.shape[-1], 2, dtype=torch.float32) / x.shape[-1]))
    angles = positions.float()[:, None] * inv_freq[None, :]
    both = torch.cat([angles, angles], dim=-1)
    cos, sin = both.cos().to(x.dtype), both.sin().to(x.dtype)
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin
