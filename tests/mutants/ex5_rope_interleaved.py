"""RoPE pairs neighbours (2i, 2i+1) as the blog's eq. (13), not the half-split the docstring asks for."""
TARGET = "ex5_papers.py"
CATCHES = ["checks/test_ex5.py::test_rope_matches_qwen2_rotary_embedding", "checks/test_ex5.py::test_rope_matches_at_the_paper_base"]
REPLACE = [("    x1, x2 = x[..., :half].float(), x[..., half:].float()\n"
            "    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(x.dtype)",
            "    x1, x2 = x[..., 0::2].float(), x[..., 1::2].float()\n"
            "    return torch.stack([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).flatten(-2).to(x.dtype)")]
