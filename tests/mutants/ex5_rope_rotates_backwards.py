"""Rotation by -m * omega (the sin terms' signs swapped): relative, but not Qwen2's RoPE."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding"]
REPLACE = [("return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)",
            "return torch.cat([x1 * cos + x2 * sin, x2 * cos - x1 * sin], dim=-1)")]
