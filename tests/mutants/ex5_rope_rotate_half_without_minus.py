"""rotate_half written as cat(x2, x1), without the minus: not a rotation, so scores depend on absolute positions."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_scores_depend_only_on_relative_position",
           "checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding"]
REPLACE = [("return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)",
            "return torch.cat([x1 * cos + x2 * sin, x2 * cos + x1 * sin], dim=-1)")]
